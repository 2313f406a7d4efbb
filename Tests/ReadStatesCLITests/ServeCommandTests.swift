import Foundation
import TestSupport
import Testing

/// `readstates serve` as a process: start, use over HTTP, signal, start again.
struct ServeProcess {
    let process: Subprocess
    let port: Int32
    let log: URL

    /// Starts `serve --port 0` and waits (at most `seconds`) for its "serving" log line,
    /// which names the port.
    static func start(_ arguments: [String], within seconds: Double = 60) async throws -> ServeProcess {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-serve-\(UUID()).log")
        let process = try Subprocess.spawn(CommandRun.executable.path, ["serve", "--port", "0"] + arguments, stderr: log)
        var port: Int32?
        do {
            try await eventually("serve's \"serving\" line", within: seconds) {
                port = servingPort(in: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
                return port != nil || process.hasExited
            }
        } catch {
            process.send(SIGKILL)
            throw TestServerError("serve did not start: \(error): \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        guard let port else {
            throw TestServerError("serve exited before serving: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        return ServeProcess(process: process, port: port, log: log)
    }

    /// The port in the "serving" line (`url=http://127.0.0.1:PORT`).
    static func servingPort(in text: String) -> Int32? {
        guard let range = text.range(of: #"url=https?://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
            return nil
        }
        return Int32(text[range].split(separator: ":").last ?? "")
    }

    /// Sends `signal` and waits (at most `seconds`) for the exit status.
    func stop(_ signal: Int32 = SIGTERM, within seconds: Double = 60) async throws -> Int32 {
        process.send(signal)
        return try await process.exit(within: seconds)
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}

@Suite(.timeLimit(.minutes(5))) struct ServeCommandTests {
    let channel = "175928847299117063"
    let message = "175928847299117099"

    func token(_ dataDirectory: URL) async throws -> String {
        let run = try await CommandRun.readstates("token", "--user", "80351110224678912", "--data-dir", dataDirectory.path)
        #expect(run.status == 0)
        return run.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func restartKeepsState(_ storeArguments: [String], dataDirectory: URL) async throws {
        let auth = ["Authorization": try await token(dataDirectory)]
        // --demo: the user below is a member of the demo channel "general".
        let arguments = ["--data-dir", dataDirectory.path, "--flush-delay", "30s", "--demo"] + storeArguments

        let first = try await ServeProcess.start(arguments)
        #expect(try await RawHTTP.request(port: first.port, "GET", "/health").status == 200)
        let ack = try await RawHTTP.request(
            port: first.port, "POST", "/api/channels/\(channel)/messages/\(message)/ack",
            headers: auth, body: #"{"manual": true, "mention_count": 4}"#
        )
        #expect(ack.status == 200)
        // Well within the 30 s flush delay: only the shutdown flush can have written it.
        // Not a member of this channel: refused, nothing stored.
        let refused = try await RawHTTP.request(
            port: first.port, "POST", "/api/channels/175928847299117099/messages/\(message)/ack", headers: auth
        )
        #expect(refused.status == 403)
        #expect(try await first.stop(SIGTERM) == 0)
        #expect(first.output.contains("stopped"))

        let second = try await ServeProcess.start(arguments)
        let list = try await RawHTTP.request(port: second.port, "GET", "/api/users/@me/read-states", headers: auth)
        #expect(list.status == 200)
        let entries = list.json?["entries"] as? [[String: Any]] ?? []
        #expect(entries.count == 1)
        #expect(entries.first?["id"] as? String == channel)
        #expect(entries.first?["last_message_id"] as? String == message)
        #expect(entries.first?["mention_count"] as? Int == 4)
        #expect(try await second.stop(SIGINT) == 0)
    }

    @Test func sqliteStateSurvivesSIGTERMAndARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-serve-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await restartKeepsState([], dataDirectory: directory)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("read_states.sqlite").path))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("secret").path))
    }

    @Test func postgresStateSurvivesSIGTERMAndARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-serve-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try await PostgresTestServer.shared().makeDatabase()
        try await restartKeepsState(["--store", "postgres", "--postgres-url", url], dataDirectory: directory)
    }

    /// The store is gone when SIGTERM comes: serve says what is lost and exits 1.
    @Test func aFailedFinalFlushExitsOneAndNamesWhatIsLost() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-serve-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await PostgresTestServer()
        let url = try await database.makeDatabase()
        let server = try await ServeProcess.start(
            ["--data-dir", directory.path, "--demo", "--flush-delay", "30s", "--store", "postgres", "--postgres-url", url]
        )
        let auth = ["Authorization": try await token(directory)]
        for message in [message, "175928847299117100"] {
            let ack = try await RawHTTP.request(
                port: server.port, "POST", "/api/channels/\(channel)/messages/\(message)/ack", headers: auth
            )
            #expect(ack.status == 200)
        }
        let other = try await RawHTTP.request(
            port: server.port, "POST", "/api/channels/175928847299117064/messages/\(message)/ack", headers: auth
        )
        #expect(other.status == 200)
        try await database.stop()
        #expect(try await server.stop(SIGTERM, within: 90) == 1)
        // Two states changed (one of them twice), none written: both are named as lost.
        #expect(server.output.contains("the final write failed: these read states are lost"), "\(server.output)")
        #expect(server.output.contains("pending=2"), "\(server.output)")
        #expect(!server.output.contains("] stopped\n"))
    }

    @Test(arguments: [
        (["--store", "postgres"], "--store postgres needs --postgres-url"),
        (["--store", "postgres", "--postgres-url", "postgres://db.internal/chat"], "--postgres-url: invalid PostgreSQL URL: no user name"),
        (["--store", "postgres", "--postgres-url", "postgres://u@h:99999/chat"], "--postgres-url: invalid PostgreSQL URL: the port"),
        (["--postgres-url", "postgres://u@h/d"], "--postgres-url is only used with --store postgres"),
        (["--flush-delay", "soon"], "--flush-delay takes whole seconds"),
        (["--port", "70000"], "--port must be from 0 to 65535"),
        (["--cache-capacity", "0"], "--cache-capacity must be positive"),
        (["--tls-cert", "/nonexistent"], "--tls-cert and --tls-key go together"),
        (["--store", "postgres", "--postgres-url", "mysql://x"], "--postgres-url:"),
    ])
    func badOptionsExitWithAMessage(arguments: [String], message: String) async throws {
        let run = try await CommandRun.readstates(arguments: ["serve"] + arguments)
        #expect(run.status == 64)
        #expect(run.standardError.contains(message), "\(run.standardError)")
    }

    @Test func aPortInUseIsAClearErrorNotACrash() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-serve-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try await ServeProcess.start(["--data-dir", directory.path])
        let second = try await CommandRun.readstates(
            "serve", "--port", String(first.port), "--data-dir", directory.appendingPathComponent("b").path
        )
        #expect(second.status == 1)
        #expect(second.standardError.contains("could not listen"))
        #expect(try await first.stop() == 0)
    }

    @Test func channelsCreatedFromTheCommandLineAreListedAndServed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-channel-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let created = try await CommandRun.readstates(
            "channel", "create", "--name", "ops", "--members", "80351110224678912, 80351110224678999", "--data-dir", directory.path
        )
        #expect(created.status == 0, "\(created.standardError)")
        let channelID = created.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(UInt64(channelID) != nil)
        let listed = try await CommandRun.readstates("channel", "list", "--data-dir", directory.path)
        #expect(listed.standardOutput == "\(channelID)\tops\t80351110224678912,80351110224678999\t-\n")

        let server = try await ServeProcess.start(["--data-dir", directory.path])
        let auth = ["Authorization": try await token(directory)]
        let ack = try await RawHTTP.request(port: server.port, "POST", "/api/channels/\(channelID)/messages/\(message)/ack", headers: auth)
        #expect(ack.status == 200)
        #expect(try await server.stop() == 0)

        let bad = try await CommandRun.readstates("channel", "create", "--name", "x", "--members", "1,abc", "--data-dir", directory.path)
        #expect(bad.status == 64)
        #expect(bad.standardError.contains("--members"))
    }

    /// wss and https on the same port, with a self-signed pair made by openssl and a
    /// third-party client (Python's ssl and websockets).
    @Test func tlsServesTheGatewayAndHTTP() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-tls-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let made = try await Subprocess.run(
            "/usr/bin/env",
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"]
        )
        #expect(made.status == 0, "\(made.error)")
        let server = try await ServeProcess.start(["--data-dir", directory.path, "--demo", "--tls-cert", cert, "--tls-key", key])
        let script = """
            import asyncio, json, ssl, sys, urllib.request, websockets
            context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
            port, token = sys.argv[1], sys.argv[2]
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/health", context=context) as response:
                assert json.loads(response.read())["status"] == "ok"
            async def main():
                async with websockets.connect(f"wss://127.0.0.1:{port}/gateway", ssl=context) as ws:
                    assert json.loads(await ws.recv())["op"] == 10
                    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
                    ready = json.loads(await ws.recv())
                    assert ready["t"] == "READY" and ready["d"]["resume_gateway_url"].startswith("wss://"), ready
            asyncio.run(main())
            print("tls ok")
            """
        let run = try await Subprocess.run("/usr/bin/env", ["python3", "-c", script, String(server.port), try await token(directory)])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("tls ok"))
        #expect(try await server.stop() == 0)
    }

    @Test func tokenRefusesABadUserID() async throws {
        let run = try await CommandRun.readstates("token", "--user", "nope", "--data-dir", "/tmp/readstates-unused")
        #expect(run.status == 2)
        #expect(run.standardError.contains("--user"))
    }
}
