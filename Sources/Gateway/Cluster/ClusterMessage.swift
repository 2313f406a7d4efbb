import Cluster
import ReadStatesModule
public import Snowflake

/// Whose sessions a dispatch from another node is for.
public enum ClusterDispatchTarget: Equatable, Sendable {
    case users([Snowflake])
    /// The channel's members (each node looks them up in its own directory).
    case channel(Snowflake)
}

/// What gateway nodes say to each other over the cluster (``ClusterNode``), in a small
/// binary form: one byte of kind, then fixed-width integers and length-prefixed bytes.
/// Each kind names who sends it and who acts on it.
indirect enum ClusterMessage: Equatable, Sendable {
    /// To every node (broadcast): deliver a dispatch, already encoded as `d`, to the
    /// local sessions of `target`. `message` is MESSAGE_CREATE's ID (the channel's
    /// newest message on every node).
    case dispatch(type: String, target: ClusterDispatchTarget, message: Snowflake?, payload: [UInt8])
    /// To a user's owner (request): the user's read states for READY or the REST API.
    case readStates(user: Snowflake)
    /// To a user's owner (request): apply acks; the reply is ``AckReply``.
    case ack(user: Snowflake, items: [GatewayCore.AckItem], manual: Bool, mentionCount: Int)
    /// To a user's owner (message): count a mention in `channel` for each of `users`.
    case mentions(users: [Snowflake], channel: Snowflake, message: Snowflake)
    /// To every node: a channel was created or changed.
    case channel(ChatChannel)
    /// To every node: the sender has written the states of the users it no longer owns
    /// under `membership` (a hash of the member set), and let them go.
    case released(membership: UInt64)
    /// A request or mentions passed on by a node that is not the owner it was sent to
    /// (member sets differ for a moment), `hops` times: bounded, so that nodes whose
    /// sets disagree cannot pass it round for ever. Never nested.
    case forwarded(hops: UInt8, ClusterMessage)

    /// A reply to ``readStates(user:)`` or ``ack(user:items:manual:mentionCount:)``:
    /// the states, and the owner's generation they are versioned in.
    struct StatesReply: Equatable, Sendable {
        var generation: UInt32
        var states: [ReadState]
        /// For an ack: which of `states` changed (one flag per state, in order).
        var updated: [Bool]
        /// For an ack: why the acks from `states.count` on were not applied.
        var failure: String?
    }

    private enum Kind: UInt8 {
        case dispatch = 1, readStates, ack, mentions, channel, released, forwarded
    }

    /// The message inside a ``forwarded(hops:_:)`` one (with its hops), or itself (0).
    var unforwarded: (message: ClusterMessage, hops: UInt8) {
        if case .forwarded(let hops, let inner) = self { return (inner, hops) }
        return (self, 0)
    }

    var encoded: [UInt8] {
        var writer = ClusterWriter()
        switch self {
        case .dispatch(let type, let target, let message, let payload):
            writer.byte(Kind.dispatch.rawValue)
            writer.string(type)
            switch target {
            case .users(let users):
                writer.byte(0)
                writer.ids(users)
            case .channel(let channel):
                writer.byte(1)
                writer.id(channel)
            }
            writer.id(message ?? Snowflake(rawValue: 0))
            writer.bytes(payload)
        case .readStates(let user):
            writer.byte(Kind.readStates.rawValue)
            writer.id(user)
        case .ack(let user, let items, let manual, let mentionCount):
            writer.byte(Kind.ack.rawValue)
            writer.id(user)
            writer.byte(manual ? 1 : 0)
            writer.integer(UInt64(mentionCount))
            writer.integer(UInt64(items.count))
            for item in items {
                writer.id(item.channel)
                writer.id(item.message)
            }
        case .mentions(let users, let channel, let message):
            writer.byte(Kind.mentions.rawValue)
            writer.ids(users)
            writer.id(channel)
            writer.id(message)
        case .channel(let channel):
            writer.byte(Kind.channel.rawValue)
            writer.id(channel.id)
            writer.string(channel.name)
            writer.ids(channel.members)
            writer.id(channel.lastMessageID ?? Snowflake(rawValue: 0))
        case .released(let membership):
            writer.byte(Kind.released.rawValue)
            writer.integer(membership)
        case .forwarded(let hops, let inner):
            writer.byte(Kind.forwarded.rawValue)
            writer.byte(hops)
            return writer.output + inner.encoded
        }
        return writer.output
    }

    /// nil for bytes this version cannot read (never trusted blindly: another node may
    /// run a newer release).
    init?(decoding bytes: [UInt8]) {
        var reader = ClusterReader(bytes)
        guard let raw = reader.byte(), let kind = Kind(rawValue: raw) else { return nil }
        switch kind {
        case .dispatch:
            guard let type = reader.string(), let form = reader.byte() else { return nil }
            let target: ClusterDispatchTarget
            switch form {
            case 0:
                guard let users = reader.ids() else { return nil }
                target = .users(users)
            case 1:
                guard let channel = reader.id() else { return nil }
                target = .channel(channel)
            default:
                return nil
            }
            guard let message = reader.id(), let payload = reader.bytes() else { return nil }
            self = .dispatch(type: type, target: target, message: message.rawValue == 0 ? nil : message, payload: payload)
        case .readStates:
            guard let user = reader.id() else { return nil }
            self = .readStates(user: user)
        case .ack:
            guard let user = reader.id(), let manual = reader.byte(), let mentions = reader.integer(), let count = reader.integer(),
                count <= 1_000
            else { return nil }
            var items: [GatewayCore.AckItem] = []
            for _ in 0..<count {
                guard let channel = reader.id(), let message = reader.id() else { return nil }
                items.append(.init(channel: channel, message: message))
            }
            self = .ack(user: user, items: items, manual: manual != 0, mentionCount: Int(clamping: mentions))
        case .mentions:
            guard let users = reader.ids(), let channel = reader.id(), let message = reader.id() else { return nil }
            self = .mentions(users: users, channel: channel, message: message)
        case .channel:
            guard let id = reader.id(), let name = reader.string(), let members = reader.ids(), let last = reader.id() else { return nil }
            self = .channel(ChatChannel(id: id, name: name, members: members, lastMessageID: last.rawValue == 0 ? nil : last))
        case .released:
            guard let membership = reader.integer() else { return nil }
            self = .released(membership: membership)
        case .forwarded:
            guard let hops = reader.byte(), let inner = reader.rest().flatMap(ClusterMessage.init(decoding:)) else { return nil }
            if case .forwarded = inner { return nil }
            self = .forwarded(hops: hops, inner)
            return
        }
        guard reader.isAtEnd else { return nil }
    }
}

extension ClusterMessage.StatesReply {
    var encoded: [UInt8] {
        var writer = ClusterWriter()
        writer.integer(UInt64(generation))
        writer.integer(UInt64(states.count))
        for (index, state) in states.enumerated() {
            writer.id(state.channelID)
            writer.id(state.lastMessageID)
            writer.integer(UInt64(state.mentionCount))
            writer.integer(UInt64(state.version))
            writer.byte(index < updated.count && updated[index] ? 1 : 0)
        }
        writer.string(failure ?? "")
        return writer.output
    }

    init?(decoding bytes: [UInt8]) {
        var reader = ClusterReader(bytes)
        guard let generation = reader.integer(), let count = reader.integer(), count <= 1 << 20 else { return nil }
        var states: [ReadState] = []
        var updated: [Bool] = []
        for _ in 0..<count {
            guard let channel = reader.id(), let last = reader.id(), let mentions = reader.integer(), let version = reader.integer(),
                let flag = reader.byte()
            else { return nil }
            states.append(
                ReadState(channelID: channel, lastMessageID: last, mentionCount: Int(clamping: mentions), version: UInt32(truncatingIfNeeded: version))
            )
            updated.append(flag != 0)
        }
        guard let failure = reader.string(), reader.isAtEnd else { return nil }
        self.init(generation: UInt32(truncatingIfNeeded: generation), states: states, updated: updated, failure: failure.isEmpty ? nil : failure)
    }

    /// The acks' changes, as the engine returned them on the owner.
    var changes: [ReadStateChange] {
        zip(states, updated).map { $1 ? .updated($0) : .unchanged($0) }
    }
}
