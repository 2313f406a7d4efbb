import Foundation
import TestSupport
import Testing

/// `readstates chat` as a person uses it: a process reading lines from a pipe (or a
/// tmux pane) and printing what happens, against a real `readstates serve --demo`.
@Suite(.serialized) struct ChatCommandTests {
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
        func expectShows(_ needle: String, times: Int = 1, sourceLocation: SourceLocation = #_sourceLocation) {
            let shown = waitFor("shown") { text.components(separatedBy: needle).count - 1 >= times ? "shown" : "" }
            #expect(shown, "chat output lacks \(needle) (x\(times)):\n\(text)\n\(errorText)", sourceLocation: sourceLocation)
        }

        /// Ends input (as Ctrl-D or the end of a pipe) and returns the exit status.
        func finish() -> Int32 {
            input.close()
            return process.wait()
        }
    }

    func withServer(_ extra: [String] = [], _ body: (ServeProcess, URL) throws -> Void) throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("chat-data-\(UUID().uuidString)")
        let server = try ServeProcess.start(["--data-dir", data.path, "--demo"] + extra)
        defer { _ = server.stop() }
        try body(server, data)
    }

    @Test func badgesUpdateLiveAndAnAckClearsThemOnTheUsersOtherClient() throws {
        try withServer { server, data in
            let bobFirst = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.bob])
            bobFirst.expectShows("ready: signed in as \(Self.bob), 3 channels")
            bobFirst.expectShows("   #general\n")

            let alice = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.alice])
            alice.type("/join general")
            alice.type("hello @\(Self.bob)")
            alice.expectShows("[#general] you: hello <@\(Self.bob)>")
            bobFirst.expectShows("badges: #general * @1 | #random | #pair")
            alice.type("@everyone meeting at noon")
            bobFirst.expectShows("badges: #general * @2 | #random | #pair")

            // Bob's second client starts with the unread marker and both mentions...
            let bobSecond = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.bob])
            bobSecond.expectShows("   #general * @2")
            // ...and opening the channel there acks it: the first client's badge clears.
            bobSecond.type("/join general")
            bobSecond.expectShows("-- #general (")
            bobFirst.expectShows("badges: #general | #random | #pair")

            // Mark unread from the last message: the channel is unread again everywhere.
            bobSecond.type("/unread")
            bobSecond.expectShows("#general marked unread")
            bobFirst.expectShows("badges: #general * | #random | #pair")
            bobSecond.type("/channels")
            bobSecond.expectShows(" > #general *\n")

            // Messages to the open channel show as they arrive, and are read at once.
            alice.type("third")
            bobSecond.expectShows("[#general] \(Self.alice): third")
            bobFirst.expectShows("badges: #general | #random | #pair", times: 2)

            alice.type("/bogus")
            alice.expectShows("unknown command /bogus (try /help)")
            alice.type("/quit")
            #expect(alice.process.wait() == 0)
            #expect(bobFirst.finish() == 0)
            #expect(bobSecond.finish() == 0)
        }
    }

    @Test func resumesAfterADroppedConnection() throws {
        try withServer { server, data in
            let bob = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.bob, "--channel", "random"])
            bob.expectShows("-- #random (")
            bob.type("/reconnect")
            bob.expectShows("-- the connection dropped; reconnecting")
            let auth = ["Authorization": try token(Self.alice, data)]
            let posted = try RawHTTP.request(
                port: server.port, "POST", "/api/channels/175928847299117064/messages", headers: auth,
                body: #"{"content":"while you were away"}"#
            )
            #expect(posted.status == 200)
            bob.expectShows("-- resumed")
            bob.expectShows("[#random] \(Self.alice): while you were away")
            bob.type("still here")
            bob.expectShows("[#random] you: still here")
            #expect(!bob.text.contains("identifying again"))
            #expect(bob.finish() == 0)
        }
    }

    @Test func aServerGoingAwayIsRetriedAndQuitNeedNotWaitForIt() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("chat-data-\(UUID().uuidString)")
        let server = try ServeProcess.start(["--data-dir", data.path, "--demo"])
        let bob = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.bob])
        bob.expectShows("ready: signed in as \(Self.bob)")
        #expect(server.stop() == 0)
        bob.expectShows("-- the server asked to reconnect; resuming")
        bob.expectShows("retrying")
        bob.type("/quit")
        #expect(bob.process.wait() == 0)
    }

    @Test func aRefusedTokenAndAnUnreachableServerEndTheClientWithAMessage() throws {
        try withServer { server, data in
            let forged = try ChatProcess.start(server, dataDirectory: data, arguments: ["--token", "forged.token.value"])
            #expect(forged.process.wait() == 1)
            #expect(forged.errorText.contains("authentication failed: the token was refused"))
            #expect(forged.errorText.contains("[close 4004"))
        }
        let closed = try CommandRun.readstates("chat", "--url", "ws://127.0.0.1:1/gateway", "--token", "x")
        #expect(closed.status == 1)
        #expect(closed.standardError.contains("could not connect to ws://127.0.0.1:1/gateway"))
        let bad = try CommandRun.readstates("chat", "--url", "http://127.0.0.1/", "--token", "x")
        #expect(bad.status == 64)
        #expect(bad.standardError.contains("the scheme must be ws or wss"))
        let both = try CommandRun.readstates("chat", "--token", "x", "--user", Self.bob)
        #expect(both.status == 64)
    }

    @Test func aRateLimitedClientSaysSoAndCarriesOn() throws {
        try withServer(["--rate-limit", "5"]) { server, data in
            let alice = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.alice, "--channel", "pair"])
            alice.expectShows("-- #pair (")
            for index in 0..<8 { alice.type("message \(index)") }
            alice.expectShows("rate limited: too many payloads in a minute [close 4008")
            // A new session follows (the limit counts per session) and takes new lines.
            alice.expectShows("ready: signed in as \(Self.alice)", times: 2)
            alice.type("after the limit")
            alice.expectShows("[#pair] you: after the limit")
            #expect(alice.finish() == 0)
        }
    }

    /// In a real terminal: tmux runs the client in a pane, keys go in with
    /// `send-keys`, and the screen comes back with `capture-pane`.
    @Test func worksInATmuxPane() throws {
        let tmux = ["/usr/bin/tmux", "/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tmux else {
            Issue.record("tmux is not installed (scripts/test.sh installs it)")
            return
        }
        let socket = "readstates-test-\(getpid())"
        func run(_ arguments: String...) throws -> (status: Int32, output: String, error: String) {
            try Subprocess.run("/usr/bin/env", ["TERM=xterm-256color", tmux, "-L", socket, "-f", "/dev/null"] + arguments)
        }
        defer { _ = try? run("kill-server") }
        try withServer { server, data in
            let command = "\(CommandRun.executable.path) chat --url ws://127.0.0.1:\(server.port)/gateway --user \(Self.alice) --data-dir \(data.path)"
            let started = try run("new-session", "-d", "-s", "chat", "-x", "160", "-y", "48", command)
            #expect(started.status == 0, "\(started.error)")
            let screen = { (try? run("capture-pane", "-p", "-t", "chat", "-S", "-100").output) ?? "" }
            #expect(waitFor("type /join NAME", in: screen), "\(screen())")
            #expect(try run("send-keys", "-t", "chat", "/join general", "Enter").status == 0)
            #expect(waitFor("-- #general (", in: screen), "\(screen())")
            _ = try run("send-keys", "-t", "chat", "hi from tmux @\(Self.bob)", "Enter")
            #expect(waitFor("[#general] you: hi from tmux <@\(Self.bob)>", in: screen), "\(screen())")

            // Another user answers from a piped client; it shows in the pane.
            let bob = try ChatProcess.start(server, dataDirectory: data, arguments: ["--user", Self.bob, "--channel", "general"])
            bob.type("hello back")
            #expect(waitFor("[#general] \(Self.bob): hello back", in: screen), "\(screen())")
            #expect(bob.finish() == 0)

            _ = try run("send-keys", "-t", "chat", "/quit", "Enter")
            #expect(waitFor("gone") { (try? run("has-session", "-t", "chat").status) == 0 ? "" : "gone" })
        }
    }

    func token(_ user: String, _ data: URL) throws -> String {
        let run = try CommandRun.readstates("token", "--user", user, "--data-dir", data.path)
        return run.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
