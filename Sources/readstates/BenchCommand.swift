import ArgumentParser
import Foundation
import Logging
import ReadStatesModule

/// `readstates bench …`: benchmarks of the real engine and, later, of the gateway.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that exercise the real engine.",
        subcommands: [CacheBenchCommand.self, StoreBenchCommand.self, ReadyBenchCommand.self]
    )
}

struct CacheBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Fill the read-state cache, then run a mix of mentions, acks and reads against it.",
        discussion: """
            Prints fill time and bytes per read state, then one line per second (operations, \
            p50/p99/p99.9/max latency in microseconds, how late an idle thread woke, CPU \
            stolen by the hypervisor) and a summary. Build with -c release for real figures.
            """
    )

    @Option(help: "Read states the cache holds.")
    var capacity = 8_000_000

    @Option(help: "Users filled in; each has capacity/users channels.")
    var users = 1_000_000

    @Option(help: "Operations per second over all threads (0 = as fast as possible).")
    var rate = 200_000

    @Option(help: "How long to run the mix.")
    var seconds = 60

    @Option(help: "Percent of mention,ack,get operations.")
    var mix = "60,35,5"

    @Option(help: "Threads issuing operations.")
    var threads = 1

    @Option(help: "Cache shards.")
    var shards = 64

    @Flag(help: "One JSON object per line.")
    var json = false

    /// Without `--store` evicted states are discarded; with it they, and every dirty
    /// state, go through the real write-behind flusher into that store.
    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "With --store: seconds between a state's first change and its write.")
    var flushDelay = 30

    @Option(help: "With --store: nice value (0-19) of the thread store writes run on (as serve's --flusher-nice).")
    var flusherNice: Int32 = 10

    @Flag(inversion: .prefixedNo, help: "Run each worker on a CPU of its own and the process's other threads (reporter, flusher, task pool) on the rest.")
    var pin = true

    @Option(help: "Nice value for the worker threads (negative needs CAP_SYS_NICE), to tell CPU contention from engine stalls.")
    var workerNice: Int32?

    func parsedMix() throws -> [Int] {
        let parts = mix.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, parts.allSatisfy({ ($0 ?? -1) >= 0 }), parts.reduce(0, { $0 + ($1 ?? 0) }) == 100 else {
            throw ValidationError("--mix takes three percentages that add up to 100, e.g. 60,35,5")
        }
        return parts.map { $0! }
    }

    func validate() throws {
        _ = try parsedMix()
        guard capacity > 0, users > 0, users <= capacity else {
            throw ValidationError("--capacity and --users must be positive and users <= capacity")
        }
        guard rate >= 0, seconds > 0, threads > 0, shards > 0, shards <= capacity else {
            throw ValidationError("--rate must be >= 0; --seconds, --threads and --shards positive")
        }
        guard flushDelay >= 0 else { throw ValidationError("--flush-delay must be >= 0") }
        guard (0...19).contains(flusherNice) else { throw ValidationError("--flusher-nice must be from 0 to 19") }
    }

    func run() async throws {
        let options = CacheBenchmark.Options(
            capacity: capacity,
            users: users,
            rate: rate,
            seconds: seconds,
            mix: try parsedMix(),
            threads: threads,
            shards: shards,
            json: json,
            workerNice: workerNice,
            pin: pin
        )
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-bench-\(UUID())")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let opened = try await storeOptions.store.asyncMap {
            try await storeOptions.open($0, defaultDirectory: temporary, logger: Logger(label: "readstates.bench"))
        }
        let writeBehind = opened.map { WriteBehind(store: $0.store, delay: UInt32(flushDelay), flusherNice: flusherNice) }
        try await CacheBenchmark(options: options, output: BenchOutput(json: json), writeBehind: writeBehind).run()
        await opened?.close()
    }
}

struct StoreBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Write rows into a store in batches, then time loading users of 100 and 1,000 read states."
    )

    @Option(help: "Rows to write.")
    var rows = 200_000

    @Option(help: "Rows per write (one statement per batch).")
    var batch = 1000

    /// SQLite goes to a new temporary directory (removed afterwards) unless
    /// `--data-dir` names one.
    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        guard rows > 0, batch > 0 else { throw ValidationError("--rows and --batch must be positive") }
    }

    func run() async throws {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-bench-\(UUID())")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let opened = try await storeOptions.open(
            storeOptions.store ?? .sqlite,
            defaultDirectory: temporary,
            logger: Logger(label: "readstates.bench")
        )
        try await StoreBenchmark(rows: rows, batchSize: batch, store: opened.store, name: opened.name).run()
        await opened.close()
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

struct ReadyBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ready",
        abstract: "READY built by the gateway's core for a cached user, without sockets (IDENTIFY in, READY bytes out).",
        discussion: "Prints bytes and p50/p99/max build time per size, for a full READY, a partial one (5 states changed since the client's version) and a full one compressed with zlib-stream. Build with -c release for real figures."
    )

    @Option(help: "Read states (and channels) of the user, comma separated.")
    var readStates = "10,100,1000"

    @Option(help: "READY builds per size.")
    var runs = 2000

    @Option(help: "Which READYs, comma separated: full, partial, compressed.")
    var forms = "full,partial,compressed"

    func validate() throws {
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
        guard parsedSizes() != nil else { throw ValidationError("--read-states takes positive whole numbers, e.g. 10,1000") }
        guard parsedForms() != nil else { throw ValidationError("--forms takes full, partial and compressed, comma separated") }
    }

    func parsedSizes() -> [Int]? {
        Self.commaSeparated(readStates) { Int($0).flatMap { (1...100_000).contains($0) ? $0 : nil } }
    }

    func parsedForms() -> [ReadyBenchmark.Form]? {
        Self.commaSeparated(forms, ReadyBenchmark.Form.init(rawValue:))
    }

    /// Every comma-separated item of `list` as `parse` reads it; nil when there is none
    /// or one does not parse.
    private static func commaSeparated<Item>(_ list: String, _ parse: (String) -> Item?) -> [Item]? {
        let items = list.split(separator: ",").map { parse($0.trimmingCharacters(in: .whitespaces)) }
        guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else { return nil }
        return items.map { $0! }
    }

    func run() throws {
        try ReadyBenchmark(readStates: parsedSizes() ?? [], runs: runs, forms: parsedForms() ?? []).run()
    }
}
