import Cluster
public import ReadStatesModule
public import Snowflake

/// Read states wherever their owner is: this node's engine for the users it owns (all
/// of them without a cluster), a request to the owner for the others. What the gateway
/// and the REST API do off the service thread goes through here; the core's inline
/// calls use the engine only for users this node owns.
public struct ReadStateRouter: Sendable {
    public let engine: ReadStates
    /// How this node's own versions reach clients.
    public let versions: ReadStateVersions
    public let cluster: GatewayCluster?

    public init(engine: ReadStates, versions: ReadStateVersions, cluster: GatewayCluster? = nil) {
        self.engine = engine
        self.versions = versions
        self.cluster = cluster
    }

    /// The owner's node ID when it is another node.
    func remoteOwner(of user: Snowflake) -> String? {
        guard let cluster, let owner = cluster.owner(of: user), owner.id != cluster.nodeID else { return nil }
        return owner.id
    }

    /// The user's read states (loaded on a miss), and the versions they are in.
    public func readStates(of user: Snowflake) async throws -> (states: [ReadState], versions: ReadStateVersions) {
        if let cluster, let owner = remoteOwner(of: user) {
            let reply = try await cluster.request(.readStates(user: user), to: owner)
            return (reply.states, ReadStateVersions(generation: reply.generation))
        }
        let states = try await engine.readStates(of: user)
        await cluster?.releaseIfMovedMeanwhile(user)
        return (states, versions)
    }

    /// Applies acks in order. Those applied before a failure stand and are returned
    /// with it.
    public func ack(
        user: Snowflake, items: [GatewayCore.AckItem], manual: Bool = false, mentionCount: Int = 0
    ) async -> (changes: [ReadStateChange], versions: ReadStateVersions, failure: (any Error)?) {
        if let cluster, let owner = remoteOwner(of: user) {
            do {
                let reply = try await cluster.request(.ack(user: user, items: items, manual: manual, mentionCount: mentionCount), to: owner)
                return (reply.changes, ReadStateVersions(generation: reply.generation), reply.failure.map { RemoteFailure(description: $0) })
            } catch {
                return ([], versions, error)
            }
        }
        var changes: [ReadStateChange] = []
        var failure: (any Error)?
        for item in items {
            do {
                changes.append(
                    try await engine.ack(user: user, channel: item.channel, messageID: item.message, manual: manual, mentionCount: mentionCount)
                )
            } catch {
                failure = error
                break
            }
        }
        await cluster?.releaseIfMovedMeanwhile(user)
        return (changes, versions, failure)
    }

    /// Counts a mention for each user: here for those this node owns, one message per
    /// other owner for the rest. Mentions that come back to the node that passed them
    /// on (the two member sets disagree for a moment) are passed on again after a
    /// short wait, at most three times; then they are dropped with an error in the log
    /// rather than counted by a node that does not own the user.
    public func mention(users: [Snowflake], channel: Snowflake, message: Snowflake, from sender: String? = nil, hops: UInt8 = 0) async {
        var local: [Snowflake] = []
        var elsewhere: [String: [Snowflake]] = [:]
        for user in users {
            if let owner = remoteOwner(of: user) {
                elsewhere[owner, default: []].append(user)
            } else {
                local.append(user)
            }
        }
        if !local.isEmpty {
            _ = try? await engine.mention(users: local, channel: channel, messageID: message)
            for user in local { await cluster?.releaseIfMovedMeanwhile(user) }
        }
        guard let cluster, !elsewhere.isEmpty else { return }
        for (owner, group) in elsewhere {
            if hops == 0 && owner != sender {
                cluster.sendMentions(group, channel: channel, message: message, to: owner)  // the usual case
                continue
            }
            guard hops < 3 else {
                cluster.dropped(group, message: message)
                continue
            }
            if owner == sender && !cluster.isLeaving {
                // Back to the node that passed them here: the two member sets disagree
                // for a moment. Routed again once they have had time to settle. (A node
                // that is leaving passes them on at once: it may be gone in 250 ms, and
                // the sender, still a member, does the waiting.)
                try? await Task.sleep(for: .milliseconds(250))
                await mention(users: group, channel: channel, message: message, from: nil, hops: hops + 1)
            } else {
                cluster.forwardMentions(group, channel: channel, message: message, hops: hops + 1, to: owner)
            }
        }
    }
}

/// The owner applied some acks and then failed: its reason.
struct RemoteFailure: Error, CustomStringConvertible {
    var description: String
}
