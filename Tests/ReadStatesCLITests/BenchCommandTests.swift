import Foundation
import Testing

@Suite(.timeLimit(.minutes(3))) struct BenchCommandTests {
    @Test func aShortCacheRunPrintsFillSecondsAndSummaryAsJSON() async throws {
        let run = try await CommandRun.readstates(
            "bench", "cache", "--capacity", "2000", "--users", "200", "--rate", "2000", "--seconds", "2", "--shards", "4", "--json"
        )
        #expect(run.status == 0)
        let objects = try run.standardOutput.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        // First how threads were placed: the worker alone on a CPU when the process may
        // use more than one (the bench decides from its own CPU mask), else not pinned.
        let note = try #require(objects.first)
        #expect(note["event"] as? String == "note")
        let text = try #require(note["text"] as? String)
        #expect(text.hasPrefix("pinned: workers on CPU ") || text.hasPrefix("threads not pinned (1 CPUs for 1 workers"))
        #expect(objects[1]["event"] as? String == "fill")
        #expect(objects[1]["read_states"] as? Int ?? 0 > 0)
        let seconds = objects.filter { $0["event"] as? String == "second" }
        #expect(seconds.count == 2)
        #expect(seconds.allSatisfy { ($0["ops"] as? Int) == 2000 })
        let summary = try #require(objects.last)
        #expect(summary["event"] as? String == "summary")
        #expect(summary["ops"] as? Int == 4000)
        #expect(summary["read_states"] as? Int ?? 0 <= 2000)
    }

    @Test func noPinLeavesThreadsWhereTheSchedulerPutsThem() async throws {
        let run = try await CommandRun.readstates(
            "bench", "cache", "--capacity", "2000", "--users", "200", "--rate", "1000", "--seconds", "1", "--no-pin"
        )
        #expect(run.status == 0)
        #expect(run.standardOutput.hasPrefix("threads not pinned"))
        #expect(run.standardOutput.contains("--no-pin"))
    }

    @Test func withAStoreEveryChangeIsWrittenByTheEndOfTheRun() async throws {
        let run = try await CommandRun.readstates(
            "bench", "cache", "--capacity", "2000", "--users", "200", "--rate", "4000", "--seconds", "2", "--shards", "2",
            "--store", "sqlite", "--flush-delay", "0", "--json"
        )
        #expect(run.status == 0)
        let last = try #require(run.standardOutput.split(separator: "\n").last)
        let flusher = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(flusher["event"] as? String == "flusher")
        // Rows go out during the run and at its end; how many during depends on how
        // much CPU the nice-10 flusher got (little, with the suite running beside it).
        let during = try #require(flusher["rows_written"] as? Int)
        #expect(during + (flusher["final_flush_rows"] as? Int ?? 0) > 0)
        #expect(flusher["failed_writes"] as? Int == 0)
        // What was still pending when the run ended went out in the final flush.
        let pending = try #require(flusher["pending"] as? Int)
        #expect(flusher["final_flush_rows"] as? Int ?? -1 >= pending)
        #expect(flusher["pending_after_final_flush"] as? Int == 0)
    }

    @Test(arguments: [
        ["--mix", "50,50,50"], ["--mix", "a,b,c"], ["--users", "0"], ["--rate", "-1"], ["--store", "postgres"],
        ["--store", "mysql"], ["--postgres-url", "postgres://u@h/d"], ["--store", "postgres", "--postgres-url", "http://x"],
        ["--flush-delay", "-3"],
    ])
    func badOptionsAreRefusedWithAMessage(options: [String]) async throws {
        let run = try await CommandRun.readstates(arguments: ["bench", "cache"] + options)
        // 64 is ArgumentParser's usage error; a crash (signal) or 1 would be a bug.
        #expect(run.status == 64, "\(run.standardError)")
        #expect(run.standardError.contains("Error"))
        #expect(run.standardOutput.isEmpty)
    }

    @Test func readyIsBuiltByTheCoreForEachSize() async throws {
        let run = try await CommandRun.readstates("bench", "ready", "--runs", "20", "--read-states", "3,50")
        #expect(run.status == 0, "\(run.standardError)")
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines.first?.hasPrefix("READY, 3 read states (") == true)
        #expect(lines.allSatisfy { $0.contains(" us over 20 builds") })
        /// The bytes of the line for `label` and 50 read states.
        func bytes(_ label: String) throws -> Int {
            let line = try #require(lines.first { $0.hasPrefix("\(label), 50 read states (") })
            let number = line.split(separator: "(")[1].split(separator: " ")[0]
            return try #require(Int(number))
        }
        // 5 of 50 states changed: a tenth of the entries; compressed: smaller still.
        #expect(try bytes("READY partial (5 changed)") < bytes("READY") / 2)
        #expect(try bytes("READY zlib-stream") < bytes("READY") / 2)
        let bad = try await CommandRun.readstates("bench", "ready", "--read-states", "10,x")
        #expect(bad.status == 64)
        #expect(bad.standardError.contains("--read-states"))
    }

    @Test func aSmallStoreRunReportsWritesAndLoads() async throws {
        let run = try await CommandRun.readstates("bench", "store", "--rows", "500", "--batch", "100")
        #expect(run.status == 0)
        #expect(run.standardOutput.contains("sqlite write: 500 rows in batches of 100"))
        #expect(run.standardOutput.contains("load of a user with 1000 read states"))
    }
}
