import Foundation
@testable import Gateway
import ReadStatesModule
import Snowflake
import Testing

/// The core on a cluster node that owns user 1 and not user 2: the engine is touched
/// only for user 1; user 2's READY, acks and mentions go to the transport (which asks
/// the owner); what this node dispatches is also published for the other nodes, and
/// what comes from them is delivered here without going back out.
@Suite struct GatewayCoreClusterTests {
    let base = GatewayCoreTests()

    func clusterCore() -> GatewayCore {
        var core = base.makeCore()
        core.ownership = GatewayCore.Ownership(isClustered: true, owns: { $0 == id(1) })
        return core
    }

    func publishes(_ actions: [GatewayCore.Action]) -> [(type: String, target: ClusterDispatchTarget, message: Snowflake?)] {
        actions.compactMap { action in
            if case .publish(let type, let target, let message, _) = action { return (type, target, message) }
            return nil
        }
    }

    @Test func anotherNodesUserIsNeverServedFromThisEngineEvenWhenCached() throws {
        var core = clusterCore()
        // Cached here (a leftover): still not this node's to serve.
        try base.engine.insertLoaded(user: id(2), states: [ReadState(channelID: base.general, lastMessageID: id(5), mentionCount: 0, version: 1)])
        _ = core.connected(7, now: 0)
        let identify = core.received(7, frame: base.frame(#"{"op":2,"d":{"token":"\#(base.tokens.mint(user: id(2)))"}}"#), now: 0)
        #expect(identify.contains(.loadForReady(connection: 7, user: id(2))))
        // The owner's states, in the owner's generation.
        let owners = ReadStateVersions(generation: 99)
        let states = [ReadState(channelID: base.general, lastMessageID: id(50), mentionCount: 4, version: 9)]
        let ready = core.readyLoaded(7, user: id(2), states: states, versions: owners)
        let payload = try #require(base.sent(ready)[7]?.first?["d"] as? [String: Any])
        let list = try #require(payload["read_state"] as? [String: Any])
        #expect((list["version"] as? NSNumber)?.uint64Value == UInt64(99) << 32 | 9)
        #expect(publishes(ready).isEmpty, "READY is for this connection only")

        // An ack of user 2's: to the owner, not applied here.
        let ack = core.received(7, frame: base.frame(#"{"op":101,"d":{"channel_id":"\#(base.general.rawValue)","message_id":"\#(id(60).rawValue)"}}"#), now: 1)
        #expect(ack.contains { if case .ackUncached(let acks) = $0 { acks.user == id(2) && acks.items.count == 1 } else { false } })
        #expect(base.engine.readStatesIfCached(of: id(2))?.first?.lastMessageID == id(5))
    }

    @Test func aMessageIsPublishedOnceAndMentionsOfOtherNodesUsersGoToTheirOwners() throws {
        var core = clusterCore()
        base.ready(&core, 1, user: 1)
        try base.engine.insertLoaded(user: id(2), states: [])
        let (result, actions) = core.sendMessage("hi <@\(id(2).rawValue)> and <@\(id(1).rawValue)>", nonce: nil, to: base.general, from: id(1), connection: 1)
        let created = try result.get()
        let published = publishes(actions)
        #expect(published.count == 2)
        #expect(published.first?.type == "MESSAGE_CREATE" && published.first?.target == .channel(base.general) && published.first?.message == created.id)
        // The author's own ack, which this node applied, goes out too.
        #expect(published.last?.type == "MESSAGE_ACK" && published.last?.target == .users([id(1)]))
        #expect(actions.contains(.mentionUncached(users: [id(2)], channel: base.general, message: created.id)))
        // Not counted here for user 2; user 1's own mention is (it owns the message, so 0).
        #expect(base.engine.readStatesIfCached(of: id(2)) == [])
    }

    @Test func acksAppliedByAnotherOwnerAreDeliveredHereInItsGenerationAndPublished() throws {
        var core = clusterCore()
        base.ready(&core, 1, user: 1)
        let change = ReadStateChange.updated(ReadState(channelID: base.general, lastMessageID: id(70), mentionCount: 0, version: 12))
        let actions = core.acked(user: id(1), changes: [change], manual: false, versions: ReadStateVersions(generation: 5))
        let ack = try #require(base.sent(actions)[1]?.first { $0["t"] as? String == "MESSAGE_ACK" }?["d"] as? [String: Any])
        #expect((ack["version"] as? NSNumber)?.uint64Value == UInt64(5) << 32 | 12)
        #expect(publishes(actions).map(\.type) == ["MESSAGE_ACK"])
    }

    @Test func dispatchesFromOtherNodesReachLocalSessionsAndAreNotPublishedAgain() {
        var core = clusterCore()
        base.ready(&core, 1, user: 1)
        let actions = core.deliverFromCluster("MESSAGE_CREATE", payload: Array(#"{"id":"1"}"#.utf8), toUsers: [id(1), id(3)])
        #expect(base.events(actions, to: 1) == ["MESSAGE_CREATE"])
        #expect(publishes(actions).isEmpty)
    }

    @Test func oneNodePublishesNothing() throws {
        var core = base.makeCore()
        base.ready(&core, 1, user: 1)
        let (_, actions) = core.sendMessage("hi", nonce: nil, to: base.general, from: id(1), connection: 1)
        #expect(publishes(actions).isEmpty)
        #expect(!actions.contains { if case .mentionUncached = $0 { true } else { false } })
    }
}
