import ArgumentParser

/// The `readstates` command line: one executable, one subcommand per job.
@main
struct ReadStatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readstates",
        abstract: "A WebSocket chat gateway with an embedded Read States engine.",
        subcommands: [
            ServeCommand.self, TokenCommand.self, ChannelCommand.self, ChatCommand.self, LoadgenCommand.self, EchoCommand.self,
            SnowflakeCommand.self, BenchCommand.self,
        ]
    )
}
