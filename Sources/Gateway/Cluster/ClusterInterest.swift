import ReadStatesModule
import Snowflake
import Synchronization

/// Which channels this node must hear the messages of: those with a member who has a
/// session here, connected or waiting for a RESUME (a resumed session replays what it
/// missed, so its dispatches must keep coming while it is away). The node listens to
/// a topic per such channel, so a MESSAGE_CREATE is one PUBLISH that Redis delivers to
/// the interested nodes only.
///
/// A user counts from its first session here until its last one has been gone for the
/// resume window (``sweep(now:)``); a channel counts while one of its members does.
final class ClusterInterest: Sendable {
    private struct User {
        var connections = 0
        /// When the last connection closed (nil while one is open).
        var idleSince: UInt64?
    }

    private struct State {
        var users: [Snowflake: User] = [:]
        var channels: Set<Snowflake> = []
    }

    private let state = Mutex(State())
    private let directory: ChannelDirectory
    /// How long a user without a connection keeps its channels (the resume window).
    let windowMilliseconds: UInt64
    /// Called with the channels to start and to stop listening to (outside the lock).
    let changed: @Sendable (_ listen: [Snowflake], _ stop: [Snowflake]) -> Void

    init(directory: ChannelDirectory, windowMilliseconds: UInt64, changed: @escaping @Sendable ([Snowflake], [Snowflake]) -> Void) {
        self.directory = directory
        self.windowMilliseconds = windowMilliseconds
        self.changed = changed
    }

    static func topic(_ channel: Snowflake) -> String { "channel:\(channel.rawValue)" }

    /// Channels listened to now.
    var channels: Set<Snowflake> { state.withLock { $0.channels } }

    /// A session of `user` attached to a connection here (READY or RESUMED).
    func attached(_ user: Snowflake) {
        let isNew = state.withLock { state -> Bool in
            let isNew = state.users[user] == nil
            state.users[user, default: User()].connections += 1
            state.users[user]?.idleSince = nil
            return isNew
        }
        if isNew { recompute(directory.summaries(of: user).map(\.id)) }
    }

    /// A connection of `user` closed here.
    func detached(_ user: Snowflake, now: UInt64) {
        state.withLock { state in
            guard var record = state.users[user] else { return }
            record.connections = max(0, record.connections - 1)
            if record.connections == 0 { record.idleSince = now }
            state.users[user] = record
        }
    }

    /// Users idle past the window stop counting; their channels are looked at again.
    func sweep(now: UInt64) {
        let gone = state.withLock { state -> [Snowflake] in
            let gone = state.users.filter { $0.value.connections == 0 && ($0.value.idleSince ?? now) + windowMilliseconds <= now }.map(\.key)
            for user in gone { state.users[user] = nil }
            return gone
        }
        guard !gone.isEmpty else { return }
        recompute(Array(Set(gone.flatMap { directory.summaries(of: $0).map(\.id) })))
    }

    /// A channel was created or its members changed.
    func channelChanged(_ channel: Snowflake) {
        recompute([channel])
    }

    /// Each channel is listened to exactly while one of its members counts here.
    private func recompute(_ channels: [Snowflake]) {
        let members = channels.map { ($0, directory.channel($0)?.members ?? []) }
        state.withLock { state in
            var listen: [Snowflake] = []
            var stop: [Snowflake] = []
            for (channel, members) in members {
                let wanted = members.contains { state.users[$0] != nil }
                if wanted, state.channels.insert(channel).inserted { listen.append(channel) }
                if !wanted, state.channels.remove(channel) != nil { stop.append(channel) }
            }
            // Under the lock: two changes reach the node in the order they were decided.
            if !listen.isEmpty || !stop.isEmpty { changed(listen, stop) }
        }
    }
}
