import ArgumentParser
import Cluster
import Foundation
import Gateway
import Logging
import ReadStatesModule
import Snowflake

/// `readstates channel create|list`: channels in the store, without a running server.
///
/// A running server loads channels when it starts; to add one while it runs, use
/// `POST /api/channels` with the admin token, or, for a cluster, `--cluster`: the
/// nodes hear of the channel through Redis.
struct ChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract: "Create or list channels in the store (a running server sees them after a restart; a cluster at once with --cluster).",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a channel (or replace the name and members of an existing ID).",
            discussion: """
                Prints the channel's ID. Exit status: 0 on success, 64 for bad options, 1 when the store fails \
                or the cluster could not be told (the channel is saved: the nodes see it when they restart).
                """
        )

        @Option(help: "The channel's name.")
        var name: String

        @Option(help: "Member user IDs, comma separated.")
        var members: String

        @Option(help: "The channel's ID (default: a new Snowflake).")
        var id: String?

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "Tell the running nodes of this cluster (redis://HOST[:PORT][/DB]) about the channel.")
        var cluster: String?

        func parsedMembers() throws -> [Snowflake] {
            let parts = members.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !parts.isEmpty else { throw ValidationError("--members needs at least one user ID") }
            return try parts.map { part in
                do {
                    return try Snowflake.parse(part)
                } catch {
                    throw ValidationError("--members: \(error)")
                }
            }
        }

        func validate() throws {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 100 else {
                throw ValidationError("--name must be 1 to 100 characters")
            }
            _ = try parsedMembers()
            if let id {
                do { _ = try Snowflake.parse(id) } catch { throw ValidationError("--id: \(error)") }
            }
            if let cluster {
                do { _ = try RedisURL(parsing: cluster) } catch { throw ValidationError("--cluster: \(error)") }
            }
        }

        func run() async throws {
            let channelID = try id.map { try Snowflake.parse($0) } ?? SnowflakeGenerator(worker: 0, process: 2).next()
            let channel = ChatChannel(id: channelID, name: name.trimmingCharacters(in: .whitespaces), members: try parsedMembers())
            try await ChannelCommand.withChannelStore(storeOptions) { store in
                try await store.saveChannel(channel)
            }
            print(channelID.rawValue)
            if let cluster {
                do {
                    let nodes = try GatewayCluster.announce(channel: channel, redis: try RedisURL(parsing: cluster))
                    FileHandle.standardError.write(Data("readstates channel: \(nodes) running nodes told\n".utf8))
                } catch {
                    FileHandle.standardError.write(
                        Data("readstates channel: saved, but the cluster was not told (\(error)); its nodes see the channel when they restart\n".utf8)
                    )
                    throw ExitCode(1)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List channels: ID, name, members, newest message.")

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await ChannelCommand.withChannelStore(storeOptions) { store in
                for channel in try await store.loadChannels().sorted(by: { $0.id < $1.id }) {
                    let members = channel.members.sorted().map { String($0.rawValue) }.joined(separator: ",")
                    print("\(channel.id.rawValue)\t\(channel.name)\t\(members)\t\(channel.lastMessageID.map { String($0.rawValue) } ?? "-")")
                }
            }
        }
    }

    /// Opens the store the options name, runs `body` on its channels, and closes it
    /// (also when `body` throws).
    static func withChannelStore(_ options: StoreOptions, _ body: (any ChannelStore) async throws -> Void) async throws {
        let opened = try await options.open(
            options.store ?? .sqlite, defaultDirectory: URL(fileURLWithPath: StoreOptions.defaultDataDirectory), logger: Logger(label: "readstates.channel")
        )
        do {
            guard let store = opened.store as? any ChannelStore else { throw ValidationError("this store keeps no channels") }
            try await body(store)
        } catch {
            await opened.close()
            throw error
        }
        await opened.close()
    }
}
