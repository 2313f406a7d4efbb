import Prometheus
public import ReadStatesModule
public import Snowflake

/// ACK, BULK_ACK and SEND_MESSAGE, from the socket or over HTTP: membership, the
/// engine's inline calls, and who receives what.
extension GatewayCore {
    mutating func request(_ payload: ClientPayload, from user: Snowflake, connection id: Int) -> [Action] {
        switch payload {
        case .ack(let channel, let message, let manual, let count):
            return ack([AckItem(channel: channel, message: message)], manual: manual, mentionCount: count, user: user, connection: id, op: .ack)
        case .bulkAck(let items):
            let acks = items.map { AckItem(channel: $0.channelId, message: $0.messageId) }
            return ack(acks, manual: false, mentionCount: 0, user: user, connection: id, op: .bulkAck)
        case .sendMessage(let channel, let content, let nonce):
            let (result, actions) = sendMessage(content, nonce: nonce, to: channel, from: user, connection: id)
            guard case .failure(let error) = result else { return actions }
            return actions + requestFailed(id, error)
        case .heartbeat, .identify, .resume:
            return []
        }
    }

    /// Applies acks inline for a cached user; the rest become an `ackUncached` action.
    /// `membershipChecked`: the caller has just checked that the user is a member of
    /// every item's channel (a message's author), so it is not looked up again.
    mutating func ack(
        _ items: [AckItem],
        manual: Bool,
        mentionCount: Int,
        user: Snowflake,
        connection id: Int?,
        op: GatewayOpcode,
        membershipChecked: Bool = false
    ) -> [Action] {
        var actions: [Action] = []
        var changes: [ReadStateChange] = []
        var missed: [AckItem] = []
        // Another node's user: every ack goes to its owner (through the transport).
        let owned = ownership.owns(user)
        for item in items {
            guard membershipChecked || directory.isMember(user, of: item.channel) else {
                actions += requestFailed(id, .missingAccess(item.channel, op: op))
                continue
            }
            guard owned else {
                missed.append(item)
                continue
            }
            do {
                let start = ContinuousClock.now
                let inline = try engine.ackIfCached(
                    user: user, channel: item.channel, messageID: item.message, manual: manual, mentionCount: mentionCount
                )
                metrics.ackLatency.record(ContinuousClock.now - start)
                if let change = inline {
                    changes.append(change)
                } else {
                    missed.append(item)
                }
            } catch {
                actions += requestFailed(id, .unavailable("\(error)", op: op))
            }
        }
        actions.append(taking: acked(user: user, changes: changes, manual: manual))
        if !missed.isEmpty {
            // Evicted since READY (or never loaded): loaded and applied off this thread.
            actions.append(
                .ackUncached(UncachedAcks(user: user, items: missed, manual: manual, mentionCount: mentionCount, connection: id, op: op))
            )
        }
        return actions
    }

    /// Changes applied (here or off the thread): MESSAGE_ACK to every session of the
    /// user, the acking one included, for each state that changed.
    ///
    /// `versions`: the generation of the node whose engine made the changes (the user's
    /// owner; this node's when nil). In a cluster, every other node gets them too.
    public mutating func acked(user: Snowflake, changes: [ReadStateChange], manual: Bool, versions: ReadStateVersions? = nil) -> [Action] {
        var actions: [Action] = []
        for change in changes where change.isUpdated {
            let payload = ServerFrame.payload(MessageAck(change, manual: manual, versions: versions ?? self.versions))
            dispatch("MESSAGE_ACK", payload: payload, toUsers: CollectionOfOne(user), into: &actions)
            if ownership.isClustered { actions.append(.publish(type: "MESSAGE_ACK", target: .users([user]), message: nil, payload: payload)) }
        }
        return actions
    }

    /// REQUEST_ERROR to the session of the connection that asked (none for HTTP).
    public mutating func requestFailed(_ id: Int?, _ error: RequestError) -> [Action] {
        guard let id else { return [] }
        return dispatch("REQUEST_ERROR", error, toConnection: id)
    }

    /// A member's message: a new Snowflake, MESSAGE_CREATE to every member's sessions,
    /// mentions counted, the channel's newest message moved, the author's read state
    /// acked to it.
    /// - Parameter id: the sending connection (nil for a message that came over HTTP).
    public mutating func sendMessage(
        _ content: String,
        nonce: String?,
        to channelID: Snowflake,
        from user: Snowflake,
        connection id: Int?
    ) -> (Result<MessageCreate, RequestError>, [Action]) {
        let members: [Snowflake]
        switch directory.members(of: channelID, ifMember: user) {
        case .success(let list): members = list
        case .failure(.unknownChannel): return (.failure(.unknownChannel(channelID, op: .sendMessage, nonce: nonce)), [])
        case .failure(.notMember): return (.failure(.missingAccess(channelID, op: .sendMessage, nonce: nonce)), [])
        }
        let messageID = messageIDs.next()
        let mentions = MessageMentions(content: content, members: members, author: user)
        directory.recordMessage(messageID, in: channelID)
        let created = MessageCreate(
            id: messageID,
            channelId: channelID,
            author: .init(id: user),
            content: content,
            mentions: mentions.users.map { .init(id: $0) },
            mentionEveryone: mentions.everyone,
            nonce: nonce
        )
        var actions: [Action] = []
        // Encoded once for every member's sessions; only the sequence differs.
        let payload = ServerFrame.payload(created)
        dispatch("MESSAGE_CREATE", payload: payload, toUsers: members, into: &actions)
        if ownership.isClustered {
            // Once for all other nodes; each delivers to its own sessions of the members.
            actions.append(.publish(type: "MESSAGE_CREATE", target: .channel(channelID), message: messageID, payload: payload))
        }
        // Mentions: inline for cached users; the others are loaded (and counted) off
        // this thread.
        var uncached: [Snowflake] = []
        for mentioned in mentions.users {
            guard ownership.owns(mentioned) else {
                uncached.append(mentioned)  // counted by its owner (the transport sends it there)
                continue
            }
            let start = ContinuousClock.now
            let inline = try? engine.mentionIfCached(user: mentioned, channel: channelID, messageID: messageID)
            metrics.mentionLatency.record(ContinuousClock.now - start)
            if inline == nil { uncached.append(mentioned) }
        }
        if !uncached.isEmpty {
            actions.append(.mentionUncached(users: uncached, channel: channelID, message: messageID))
        }
        actions.append(taking: ack([AckItem(channel: channelID, message: messageID)], manual: false, mentionCount: 0, user: user, connection: id, op: .sendMessage, membershipChecked: true))
        return (.success(created), actions)
    }
}
