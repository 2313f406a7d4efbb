import Foundation
import TestSupport
import Testing

/// `readstates chat` as a person uses it: a process reading lines from a pipe (or a
/// tmux pane) and printing what happens, against a real `readstates serve --demo`.
@Suite(.timeLimit(.minutes(5))) struct ChatCommandTests {
    static let alice = "80351110224678912"
    static let bob = "80351110224678913"

    /// A chat process whose standard input is a pipe the test writes into.
    struct ChatProcess {
        let process: Subprocess
        let input: InputPipe
        let output: URL
        let errors: URL

        static func start(_ server: ServeProcess, dataDirectory: URL, arguments: [String]) throws -> ChatProcess {
            let input = try InputPipe()
            let name = UUID().uuidString
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(name).out")
            let errors = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(name).err")
            let process = try Subprocess.spawn(
                CommandRun.executable.path,
                ["chat", "--url", "ws://127.0.0.1:\(server.port)/gateway", "--data-dir", dataDirectory.path] + arguments,
                stdin: input.url, stdout: output, stderr: errors
            )
            return ChatProcess(process: process, input: input, output: output, errors: errors)
        }

        var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        var errorText: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

        func type(_ line: String) { input.send(line) }

        /// Waits until the output shows `needle` (at least `times` times); records the
        /// output when it does not.
        func expectShows(_ needle: String, times: Int = 1, sourceLocation: SourceLocation = #_sourceLocation) async {
            let shown = (try? await eventually("\(needle) (x\(times)) in the chat output") {
                text.components(separatedBy: needle).count - 1 >= times
            }) != nil
            #expect(shown, "chat output lacks \(needle) (x\(times)):\n\(text)\n\(errorText)", sourceLocation: sourceLocation)
        }

        /// Ends input (as Ctrl-D or the end of a pipe) and returns the exit status.
        func finish() async throws -> Int32 {
            input.close()
            return try await process.exit(within: 30)
        }
    }

    func withServer(_ extra: [String] = [], _ body: (ServeProcess, URL) async throws -> Void) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("chat-data-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let server = try await ServeProcess.start(["--data-dir", data.path, "--demo"] + extra)
        do {
            try await body(server, data)
        } catch {
            _ = try? await server.stop()
            throw error
        }
        #expect(try await server.stop() == 0)
    }

    @Test func badgesUpdateLiveAndAnAckClearsThemOnTheUsersOtherClient() async throws {
        try await withServer { server, data in
            let bobFirst = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.bob])
            await bobFirst.expectShows("ready: signed in as \(Self.bob), 3 channels")
            await bobFirst.expectShows("   #general\n")

            let alice = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.alice])
            alice.type("/join general")
            alice.type("hello @\(Self.bob)")
            await alice.expectShows("[#general] you: hello <@\(Self.bob)>")
            await bobFirst.expectShows("badges: #general * @1 | #random | #pair")
            alice.type("@everyone meeting at noon")
            await bobFirst.expectShows("badges: #general * @2 | #random | #pair")

            // Bob's second client (compressed: zlib-stream) starts with the unread marker
            // and both mentions...
            let bobSecond = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.bob, "--compress"])
            await bobSecond.expectShows("   #general * @2")
            // ...and opening the channel there acks it: the first client's badge clears.
            bobSecond.type("/join general")
            await bobSecond.expectShows("-- #general (")
            await bobFirst.expectShows("badges: #general | #random | #pair")

            // Mark unread from the last message: the channel is unread again everywhere.
            bobSecond.type("/unread")
            await bobSecond.expectShows("#general marked unread")
            await bobFirst.expectShows("badges: #general * | #random | #pair")
            bobSecond.type("/channels")
            await bobSecond.expectShows(" > #general *\n")

            // Messages to the open channel show as they arrive, and are read at once.
            alice.type("third")
            await bobSecond.expectShows("[#general] \(Self.alice): third")
            await bobFirst.expectShows("badges: #general | #random | #pair", times: 2)

            alice.type("/bogus")
            await alice.expectShows("unknown command /bogus (try /help)")
            alice.type("/quit")
            #expect(try await alice.process.exit(within: 30) == 0)
            #expect(try await bobFirst.finish() == 0)
            #expect(try await bobSecond.finish() == 0)
        }
    }

    @Test func resumesAfterADroppedConnection() async throws {
        try await withServer { server, data in
            let bob = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.bob, "--channel", "random"])
            await bob.expectShows("-- #random (")
            bob.type("/reconnect")
            await bob.expectShows("-- the connection dropped; reconnecting")
            let auth = ["Authorization": try await token(Self.alice, data)]
            let posted = try await RawHTTP.request(
                port: server.port, "POST", "/api/channels/175928847299117064/messages", headers: auth,
                body: #"{"content":"while you were away"}"#
            )
            #expect(posted.status == 200)
            await bob.expectShows("-- resumed")
            await bob.expectShows("[#random] \(Self.alice): while you were away")
            bob.type("still here")
            await bob.expectShows("[#random] you: still here")
            #expect(!bob.text.contains("identifying again"))
            #expect(try await bob.finish() == 0)
        }
    }

    @Test func aServerGoingAwayIsRetriedAndQuitNeedNotWaitForIt() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("chat-data-\(UUID().uuidString)")
        let server = try await ServeProcess.start(["--data-dir", data.path, "--demo"])
        let bob = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.bob])
        await bob.expectShows("ready: signed in as \(Self.bob)")
        #expect(try await server.stop() == 0)
        await bob.expectShows("-- the server asked to reconnect; resuming")
        await bob.expectShows("retrying")
        bob.type("/quit")
        #expect(try await bob.process.exit(within: 30) == 0)
    }

    @Test func aRefusedTokenAndAnUnreachableServerEndTheClientWithAMessage() async throws {
        try await withServer { server, data in
            let forged = try ChatProcess.start(server, dataDirectory: data, arguments: ["--token", "forged.token.value"])
            #expect(try await forged.process.exit(within: 30) == 1)
            #expect(forged.errorText.contains("authentication failed: the token was refused"))
            #expect(forged.errorText.contains("[close 4004"))
        }
        let closed = try await CommandRun.readstates("chat", "--url", "ws://127.0.0.1:1/gateway", "--token", "x")
        #expect(closed.status == 1)
        #expect(closed.standardError.contains("could not connect to ws://127.0.0.1:1/gateway"))
        let bad = try await CommandRun.readstates("chat", "--url", "http://127.0.0.1/", "--token", "x")
        #expect(bad.status == 64)
        #expect(bad.standardError.contains("the scheme must be ws or wss"))
        let both = try await CommandRun.readstates("chat", "--token", "x", "--user", Self.bob)
        #expect(both.status == 64)
    }

    @Test func aRateLimitedClientSaysSoAndCarriesOn() async throws {
        try await withServer(["--rate-limit", "5"]) { server, data in
            let alice = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.alice, "--channel", "pair"])
            await alice.expectShows("-- #pair (")
            for index in 0..<8 { alice.type("message \(index)") }
            await alice.expectShows("rate limited: too many payloads in a minute [close 4008")
            // A new session follows (the limit counts per session) and takes new lines.
            await alice.expectShows("ready: signed in as \(Self.alice)", times: 2)
            // The client kept its read states and sent its version: READY brought only
            // what changed (nothing: it had seen the acks of its own messages).
            await alice.expectShows("0 read states changed")
            alice.type("after the limit")
            await alice.expectShows("[#pair] you: after the limit")
            #expect(try await alice.finish() == 0)
        }
    }

    /// In a real terminal: tmux runs the client in a pane, keys go in with
    /// `send-keys`, and the screen comes back with `capture-pane`.
    @Test func worksInATmuxPane() async throws {
        let tmux = ["/usr/bin/tmux", "/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tmux else {
            Issue.record("tmux is not installed (scripts/test.sh installs it)")
            return
        }
        let socket = "readstates-test-\(getpid())"
        func run(_ arguments: String...) async throws -> (status: Int32, output: String, error: String) {
            try await Subprocess.run("/usr/bin/env", ["TERM=xterm-256color", tmux, "-L", socket, "-f", "/dev/null"] + arguments)
        }
        do {
            try await inTmux(run)
        } catch {
            _ = try? await run("kill-server")
            throw error
        }
        _ = try? await run("kill-server")
    }

    func inTmux(_ run: @escaping (String...) async throws -> (status: Int32, output: String, error: String)) async throws {
        try await withServer { server, data in
            let command = "\(CommandRun.executable.path) chat --url ws://127.0.0.1:\(server.port)/gateway --user \(Self.alice) --data-dir \(data.path)"
            let started = try await run("new-session", "-d", "-s", "chat", "-x", "160", "-y", "48", command)
            #expect(started.status == 0, "\(started.error)")
            /// Whether the pane shows `needle` within 30 s (the screen is read anew each time).
            func screenShows(_ needle: String) async -> (Bool, String) {
                var screen = ""
                let shown = (try? await eventually("\"\(needle)\" on the tmux screen") {
                    screen = (try? await run("capture-pane", "-p", "-t", "chat", "-S", "-100").output) ?? ""
                    return screen.contains(needle)
                }) != nil
                return (shown, screen)
            }
            var (shown, screen) = await screenShows("type /join NAME")
            #expect(shown, "\(screen)")
            #expect(try await run("send-keys", "-t", "chat", "/join general", "Enter").status == 0)
            (shown, screen) = await screenShows("-- #general (")
            #expect(shown, "\(screen)")
            _ = try await run("send-keys", "-t", "chat", "hi from tmux @\(Self.bob)", "Enter")
            (shown, screen) = await screenShows("[#general] you: hi from tmux <@\(Self.bob)>")
            #expect(shown, "\(screen)")

            // Another user answers from a piped client; it shows in the pane.
            let bob = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.bob, "--channel", "general"])
            bob.type("hello back")
            (shown, screen) = await screenShows("[#general] \(Self.bob): hello back")
            #expect(shown, "\(screen)")
            #expect(try await bob.finish() == 0)

            _ = try await run("send-keys", "-t", "chat", "/quit", "Enter")
            try await eventually("the chat client in tmux to quit") { try await run("has-session", "-t", "chat").status != 0 }
        }
    }

    func token(_ user: String, _ data: URL) async throws -> String {
        let run = try await CommandRun.readstates("token", "--user", user, "--data-dir", data.path)
        return run.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
