import ArgumentParser
import Dispatch
import Foundation

/// The `readstates` command line: one executable, one subcommand per job.
struct ReadStatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readstates",
        abstract: "A WebSocket chat gateway with an embedded Read States engine.",
        subcommands: [
            ServeCommand.self, TokenCommand.self, ChannelCommand.self, ChatCommand.self, LoadgenCommand.self, EchoCommand.self,
            SnowflakeCommand.self, BenchCommand.self,
        ]
    )

    /// Subcommands that stop in order on SIGTERM/SIGINT (see ``ShutdownSignal``).
    static let catchShutdownSignals: Set<String> = [ServeCommand.configuration.commandName!, EchoCommand.configuration.commandName!]
}

/// The process's entry point: synchronous, so that it runs before any thread exists.
///
/// An async `main` starts Swift's task pool first, and creating those threads blocks
/// every signal for a moment: a SIGTERM then stays pending and, with no handler yet,
/// kills the process when unblocked (exit 143, no final flush). So `serve` and `echo`
/// catch SIGTERM/SIGINT here, before anything else; every other subcommand keeps the
/// default action (a signal ends it at once, as a user expects of a client).
@main
enum ReadStatesMain {
    static func main() {
        if let name = CommandLine.arguments.dropFirst().first, ReadStatesCommand.catchShutdownSignals.contains(name) {
            _ = ShutdownSignal.install()
        }
        // ArgumentParser's `main` exits the process itself on an error or a help request;
        // the main thread serves the main queue meanwhile (so main-actor work can run).
        Task.detached {
            await ReadStatesCommand.main()
            exit(0)
        }
        dispatchMain()
    }
}
