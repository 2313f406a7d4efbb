import LWSTransport
import ArgumentParser
import Foundation
import Gateway
import Snowflake

/// `readstates chat`: a terminal chat client on the same libwebsockets layer as the
/// server. Line oriented, so it works the same in a terminal, a tmux pane or with a
/// pipe as its input.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat in a terminal: channels with unread markers and mention badges, live.",
        discussion: """
            Type a line to send it to the current channel; /help lists the commands.
            Exit status: 0 after /quit or the end of input, 1 when the session cannot go on \
            (bad token, cannot connect), 64 for bad options.
            """
    )

    @Option(help: "The gateway's WebSocket URL.")
    var url = "ws://127.0.0.1:8080/gateway"

    @Option(help: "A token from `readstates token`.")
    var token: String?

    @Option(help: "Sign a token for this user with the local secret instead of --token.")
    var user: String?

    @OptionGroup var secret: SecretOptions

    @Option(help: "Open this channel (name or ID) once connected.")
    var channel: String?

    @Flag(help: "wss only: accept a self-signed server certificate.")
    var insecure = false

    @Flag(help: "Ask the server to compress what it sends (zlib-stream, as Discord's gateway).")
    var compress = false

    func validate() throws {
        guard (token == nil) != (user == nil) else { throw ValidationError("give either --token TOKEN or --user ID") }
    }

    func run() throws {
        var endpoint: WebSocketEndpoint
        do {
            endpoint = try WebSocketEndpoint(url: url)
        } catch {
            throw ValidationError("--url: \(error)")
        }
        endpoint.allowSelfSigned = insecure
        if compress { endpoint = endpoint.addingQueryArgument("compress=zlib-stream") }
        let token = try resolvedToken()
        let console = ChatConsole()
        let outcome = ChatOutcome()
        let chat = ChatClient(endpoint: endpoint, token: token, console: console, outcome: outcome)
        let client: WebSocketClient
        do {
            client = try WebSocketClient(tickInterval: .milliseconds(100), delegate: chat)
        } catch {
            console.error("readstates chat: \(error)")
            throw ExitCode(1)
        }
        client.post { connections in
            (connections.delegate as! ChatClient).start(connections)
        }
        if let channel {
            client.post { connections in (connections.delegate as! ChatClient).input("/join \(channel)", connections) }
        }
        let reader = Thread {
            while let line = readLine(strippingNewline: true) {
                client.post { connections in (connections.delegate as! ChatClient).input(line, connections) }
            }
            client.post { connections in (connections.delegate as! ChatClient).inputEnded(connections) }
        }
        reader.name = "chat-input"
        reader.start()
        client.wait()
        if outcome.failed { throw ExitCode(1) }
    }

    private func resolvedToken() throws -> String {
        if let token { return token }
        let id: Snowflake
        do {
            id = try Snowflake.parse(user ?? "")
        } catch {
            throw ValidationError("--user: \(error)")
        }
        do {
            return try secret.authority(createIfMissing: false).mint(user: id)
        } catch {
            FileHandle.standardError.write(Data("readstates chat: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
