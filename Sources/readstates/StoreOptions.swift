import ArgumentParser
import Foundation
import Logging
import ReadStatesModule
import ReadStatesPostgres
import ReadStatesSQLite

/// `--store`, `--data-dir` and `--postgres-url`, shared by `serve` and the benchmarks.
struct StoreOptions: ParsableArguments {
    /// Where data lives when no `--data-dir` is given (`serve`, `token`, `channel`, clients).
    static let defaultDataDirectory = "./data"

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case sqlite, postgres
    }

    @Option(help: "Where read states are persisted: sqlite (a file under --data-dir) or postgres.")
    var store: Kind?

    @Option(help: "Directory for the SQLite database (and the server's secret).")
    var dataDir: String?

    @Option(help: "PostgreSQL URL for --store postgres: postgres://user[:password]@host[:port]/database[?sslmode=disable].")
    var postgresURL: String?

    func validate() throws {
        if store == .postgres {
            guard let postgresURL else { throw ValidationError("--store postgres needs --postgres-url") }
            do {
                _ = try PostgresURL(postgresURL)
            } catch {
                throw ValidationError("--postgres-url: \(error)")
            }
        } else if postgresURL != nil {
            throw ValidationError("--postgres-url is only used with --store postgres")
        }
    }

    /// An open store and how to close it.
    struct Opened {
        var store: any ReadStatesStore
        var name: String
        var close: @Sendable () async -> Void
    }

    /// Opens (creating or migrating the schema) the store of `kind`; SQLite lives in
    /// `--data-dir`, or `defaultDirectory` when that is not given.
    func open(_ kind: Kind, defaultDirectory: URL, logger: Logger) async throws -> Opened {
        switch kind {
        case .sqlite:
            let directory = dataDir.map { URL(fileURLWithPath: $0) } ?? defaultDirectory
            return Opened(store: try SQLiteReadStatesStore(directory: directory), name: "sqlite", close: {})
        case .postgres:
            let url = try PostgresURL(postgresURL ?? "")
            let store = try await PostgresReadStatesStore(configuration: .init(url: url), logger: logger)
            return Opened(store: store, name: "postgres", close: { await store.shutdown() })
        }
    }
}
