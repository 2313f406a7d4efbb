import LWSTransport
import ArgumentParser
import Foundation
import Gateway

/// `readstates echo`: the bare transport, for `loadgen --echo` to measure the ceiling
/// the gateway's event rate is compared with.
struct EchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "A bare libwebsockets echo server (the transport's ceiling, for loadgen --echo).",
        discussion: "Every text message comes back as sent. Stops on SIGTERM or SIGINT. Exit status: 0 after a stop, 1 when the port cannot be opened."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port (0 picks a free one).")
    var port: Int32 = 8081

    func run() async throws {
        let shutdown = ShutdownSignal.install()
        // Before the server exists: lws sizes its tables from the limit at creation.
        OpenFileLimit.raise(toAtLeast: OpenFileLimit.hard)
        MallocTuning.keepArenaTops()
        let server: EchoServer
        do {
            server = try EchoServer(host: host, port: port)
        } catch {
            FileHandle.standardError.write(Data("readstates echo: \(error)\n".utf8))
            throw ExitCode(1)
        }
        FileHandle.standardError.write(Data("readstates echo: serving ws://\(host):\(server.port)/\n".utf8))
        _ = await shutdown.wait()
        server.stop()
    }
}
