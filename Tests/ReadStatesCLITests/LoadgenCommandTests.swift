import Foundation
import TestSupport
import Testing

/// `readstates loadgen` and `readstates echo` as processes, on a small scale: every
/// event it sends must come back matched, and its outputs must be well formed.
@Suite(.timeLimit(.minutes(5))) struct LoadgenCommandTests {
    func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    @Test func measuresEveryEventAgainstTheGatewayAndDrawsTheChart() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("loadgen-\(UUID().uuidString)")
        let server = try await ServeProcess.start(["--data-dir", data.path, "--rate-limit", "0"])
        let chart = FileManager.default.temporaryDirectory.appendingPathComponent("loadgen-\(UUID().uuidString).svg")
        let run = try await CommandRun.readstates(
            "loadgen", "--url", "ws://127.0.0.1:\(server.port)/gateway", "--data-dir", data.path,
            "--sessions", "30", "--rate", "300", "--seconds", "2", "--channel-members", "3", "--json",
            "--plot", chart.path, "--server-pid", "\(server.process.pid)"
        )
        #expect(run.status == 0, "\(run.standardError)")
        let lines = jsonLines(run.standardOutput)
        let channels = lines.first { $0["event"] as? String == "channels" }
        #expect(channels?["channels"] as? Int == 10)
        let setup = lines.first { $0["event"] as? String == "setup" }
        #expect(setup?["ready"] as? Int == 30)
        #expect(setup?["failed"] as? Int == 0)
        let seconds = lines.filter { $0["event"] as? String == "second" }
        #expect(seconds.count >= 2)
        #expect(seconds.allSatisfy { $0["p99_ms"] is Double && $0["max_ms"] is Double && $0["errors"] as? Int == 0 })
        let summary = lines.first { $0["event"] as? String == "summary" }
        #expect(summary?["sent"] as? Int == 600)
        #expect(summary?["completed"] as? Int == 600)
        #expect(summary?["lost"] as? Int == 0)
        #expect(summary?["errors"] as? Int == 0)
        // --server-pid: the server's CPU over the run, per frame it handled.
        #expect(summary?["server_frames_in"] as? Int ?? 0 >= 600)
        #expect(summary?["server_frames_out"] as? Int ?? 0 >= 600)
        #expect(summary?["server_cpu_seconds"] as? Double ?? -1 >= 0)
        #expect(summary?["server_cpu_us_per_frame"] is Double)
        let svg = (try? String(contentsOf: chart, encoding: .utf8)) ?? ""
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 3)
        #expect(svg.contains("30 sessions"))
        #expect(try await server.stop() == 0)
    }

    @Test func compressedSessionsReportWireBytesAndReidentifyWithPartialREADY() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("loadgen-\(UUID().uuidString)")
        let server = try await ServeProcess.start(["--data-dir", data.path, "--rate-limit", "0"])
        func run(_ extra: String...) async throws -> [[String: Any]] {
            let run = try await CommandRun.readstates(
                arguments: ["loadgen", "--url", "ws://127.0.0.1:\(server.port)/gateway", "--data-dir", data.path,
                 "--sessions", "12", "--rate", "120", "--seconds", "1", "--warmup", "0", "--channel-members", "3", "--json"] + extra
            )
            #expect(run.status == 0, "\(run.standardError)")
            return jsonLines(run.standardOutput)
        }
        let plain = try await run()
        let compressed = try await run("--compress", "--reidentify")
        let summary = { (lines: [[String: Any]]) in lines.first { $0["event"] as? String == "summary" } }
        #expect(summary(compressed)?["completed"] as? Int == 120)
        #expect(summary(compressed)?["lost"] as? Int == 0)
        let plainBytes = try #require(summary(plain)?["bytes_received_per_frame"] as? Double)
        let compressedBytes = try #require(summary(compressed)?["bytes_received_per_frame"] as? Double)
        #expect(compressedBytes < plainBytes, "zlib-stream frames are smaller on the wire")
        // Setup: 12 full READYs; then each session identifies again with its version.
        let setup = compressed.first { $0["event"] as? String == "setup" }
        #expect(setup?["ready_full"] as? Int == 12)
        let again = try #require(compressed.first { $0["event"] as? String == "reidentify" })
        #expect(again["ready"] as? Int == 12)
        #expect(again["ready_partial"] as? Int == 12)
        #expect(again["ready_full"] as? Int == 12, "the setup's READYs, counted together")
        let bad = try await CommandRun.readstates("loadgen", "--echo", "--compress")
        #expect(bad.status == 64)
        #expect(try await server.stop() == 0)
    }

    @Test func textOutputHasALinePerSecondAndASummary() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("loadgen-\(UUID().uuidString)")
        let server = try await ServeProcess.start(["--data-dir", data.path, "--rate-limit", "0"])
        let run = try await CommandRun.readstates(
            "loadgen", "--url", "ws://127.0.0.1:\(server.port)/gateway", "--data-dir", data.path,
            "--sessions", "10", "--rate", "100", "--seconds", "2"
        )
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.contains("setup: 10 of 10 sessions connected and READY"))
        #expect(run.standardOutput.contains("   1s  sent "))
        #expect(run.standardOutput.contains("   2s  sent "))
        #expect(run.standardOutput.contains("summary: 200 events sent"))
        #expect(run.standardOutput.contains("200 completed"))
        #expect(try await server.stop() == 0)
    }

    @Test func drivesTheEchoServer() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("echo-\(UUID().uuidString).log")
        let echo = try Subprocess.spawn(CommandRun.executable.path, ["echo", "--port", "0"], stderr: log)
        let logText = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        #expect(await waitFor("serving ws://", in: logText))
        guard let range = logText().range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
            let port = Int(logText()[range].split(separator: ":").last ?? "")
        else {
            Issue.record("no port in \(logText())")
            return
        }
        let run = try await CommandRun.readstates(
            "loadgen", "--echo", "--url", "ws://127.0.0.1:\(port)/", "--sessions", "20", "--rate", "400", "--seconds", "2", "--json"
        )
        #expect(run.status == 0, "\(run.standardError)")
        let summary = jsonLines(run.standardOutput).first { $0["event"] as? String == "summary" }
        #expect(summary?["sent"] as? Int == 800)
        #expect(summary?["completed"] as? Int == 800)
        echo.send(SIGTERM)
        #expect(try await echo.exit(within: 30) == 0)
    }

    @Test func badInputGetsAClearError() async throws {
        let members = try await CommandRun.readstates("loadgen", "--channel-members", "1")
        #expect(members.status == 64)
        #expect(members.standardError.contains("--channel-members must be at least 2"))
        let url = try await CommandRun.readstates("loadgen", "--url", "ftp://x/")
        #expect(url.status == 64)
        let files = try await CommandRun.readstates("loadgen", "--sessions", "100000000")
        #expect(files.status == 64)
        #expect(files.standardError.contains("open files"))
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString)")
        let secret = try await CommandRun.readstates("loadgen", "--data-dir", missing.path, "--sessions", "2")
        #expect(secret.status == 1)
        #expect(secret.standardError.contains("server's secret"))
    }
}
