import Foundation
import Synchronization
import ReadStatesModule
import ReadStatesPostgres
import ReadStatesSQLite
import Snowflake
import TestSupport
import Testing

func id(_ value: UInt64) -> Snowflake {
    Snowflake(rawValue: value << 22)
}

/// Every store implementation, run through the same suite.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case memory, sqlite, postgres

    var testDescription: String { rawValue }

    /// A fresh store, and a way to open the same data again (a restart).
    func make() async throws -> (store: any ReadStatesStore, reopen: @Sendable () async throws -> any ReadStatesStore) {
        switch self {
        case .memory:
            let store = InMemoryReadStatesPersistence()
            return (store, { store })
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-\(UUID())")
            return (try SQLiteReadStatesStore(directory: directory), { try SQLiteReadStatesStore(directory: directory) })
        case .postgres:
            let url = try PostgresURL(try await PostgresTestServer.shared().makeDatabase())
            let open: @Sendable () async throws -> any ReadStatesStore = {
                try await PostgresReadStatesStore(configuration: .init(url: url))
            }
            return (try await open(), open)
        }
    }
}

/// The engine's clock, moved by hand.
final class ManualClock: Sendable {
    private let now = Mutex<UInt32>(0)
    var clock: ReadStatesClock { ReadStatesClock { [self] in now.withLock { $0 } } }
    func set(_ seconds: UInt32) { now.withLock { $0 = seconds } }
}

func state(_ channel: UInt64, message: UInt64, mentions: Int = 0, version: UInt32) -> ReadState {
    ReadState(channelID: id(channel), lastMessageID: id(message), mentionCount: mentions, version: version)
}

extension Array where Element == ReadState {
    func sortedByChannel() -> [ReadState] { sorted { $0.channelID < $1.channelID } }
}
