import Foundation
import ReadStatesModule
import Snowflake

/// `readstates bench store`: what the write-behind flusher can push into a store, and
/// how long loading one user takes (a cache miss).
struct StoreBenchmark {
    var rows: Int
    var batchSize: Int
    var store: any ReadStatesStore
    var name: String

    func run() async throws {
        // 100 channels per user, message IDs growing, as the flusher would send them.
        let all = (0..<rows).map { row in
            UserReadState(
                userID: Snowflake(rawValue: UInt64(row / 100 + 1) << 22),
                state: ReadState(
                    channelID: Snowflake(rawValue: UInt64(row % 100 + 1) << 22),
                    lastMessageID: Snowflake(rawValue: UInt64(row + 1) << 22),
                    mentionCount: row % 3,
                    version: 1
                )
            )
        }
        let start = BenchClock.nanoseconds()
        var offset = 0
        while offset < all.count {
            try await store.write(Array(all[offset..<min(offset + batchSize, all.count)]))
            offset += batchSize
        }
        let seconds = Double(BenchClock.nanoseconds() - start) / 1e9
        print("\(name) write: \(rows) rows in batches of \(batchSize): \(String(format: "%.2f", seconds)) s = \(String(format: "%.0f", Double(rows) / seconds)) rows/s")

        for count in [100, 1_000] {
            let user = Snowflake(rawValue: UInt64(1_000_000 + count) << 22)
            try await store.write((0..<count).map { channel in
                UserReadState(
                    userID: user,
                    state: ReadState(channelID: Snowflake(rawValue: UInt64(channel + 1) << 22), lastMessageID: .zero, mentionCount: 0, version: 1)
                )
            })
            var samples: [UInt64] = []
            for _ in 0..<200 {
                let begin = BenchClock.nanoseconds()
                let loaded = try await store.load(user: user)
                samples.append(BenchClock.nanoseconds() - begin)
                precondition(loaded.count == count, "loaded \(loaded.count) of \(count) states")
            }
            samples.sort()
            let median = Double(samples[samples.count / 2]) / 1000
            let p99 = Double(samples[samples.count * 99 / 100]) / 1000
            print("\(name) load of a user with \(count) read states: median \(String(format: "%.0f", median)) us, p99 \(String(format: "%.0f", p99)) us (200 loads)")
        }
    }
}
