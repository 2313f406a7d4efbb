import Cluster
@testable import Gateway
import Snowflake
import Synchronization
import Testing
import TestSupport

/// A user moving to this node is loaded only once its previous owner has written it
/// and let it go: the gate holds such loads until that node's release, and holds
/// nothing else.
@Suite struct HandoffGateTests {
    let two = Membership([.init(id: "a", url: "ws://a"), .init(id: "b", url: "ws://b")])
    let three = Membership([.init(id: "a", url: "ws://a"), .init(id: "b", url: "ws://b"), .init(id: "c", url: "ws://c")])

    /// A user that `after` gives to `newOwner` and `before` gave to `previous`.
    func user(movingFrom previous: String, to newOwner: String, before: Membership, after: Membership) -> Snowflake {
        for raw in UInt64(1)...100_000 where before.owner(of: raw)?.id == previous && after.owner(of: raw)?.id == newOwner {
            return Snowflake(rawValue: raw)
        }
        fatalError("no such user")
    }

    @Test func aLoadOfAUserThatMovedHereWaitsForItsPreviousOwnersRelease() async throws {
        let gate = HandoffGate(me: "c", timeout: .seconds(60))
        gate.membershipChanged(from: two, to: three)
        try await expectHeld(gate, user(movingFrom: "a", to: "c", before: two, after: three), until: "a's release") {
            // b's release does not open a's users, nor does a release for another member set.
            gate.released(by: "b", membership: HandoffGate.hash(three))
            gate.released(by: "a", membership: HandoffGate.hash(two))
        } release: {
            gate.released(by: "a", membership: HandoffGate.hash(three))
        }
    }

    @Test func aReleaseHeardBeforeTheMemberChangeIsNotWaitedForAgain() async throws {
        let gate = HandoffGate(me: "c", timeout: .seconds(60))
        gate.released(by: "a", membership: HandoffGate.hash(three))
        gate.released(by: "b", membership: HandoffGate.hash(three))
        gate.membershipChanged(from: two, to: three)
        try await withDeadline(10) { await gate.beforeLoading(user(movingFrom: "a", to: "c", before: two, after: three)) }
    }

    @Test func aDeadPreviousOwnerAndUsersThatDidNotMoveAreNotWaitedFor() async throws {
        let gate = HandoffGate(me: "b", timeout: .seconds(60))
        // a died: its users come to b and c without a release (what a had not written is lost).
        let withoutA = Membership([.init(id: "b", url: "ws://b"), .init(id: "c", url: "ws://c")])
        gate.membershipChanged(from: three, to: withoutA)
        try await withDeadline(10) { await gate.beforeLoading(user(movingFrom: "a", to: "b", before: three, after: withoutA)) }
        // A user b owned all along.
        try await withDeadline(10) { await gate.beforeLoading(user(movingFrom: "b", to: "b", before: three, after: withoutA)) }
    }

    @Test func aJoiningNodeWaitsForEveryOtherMembersReleaseOfItsFirstMemberSet() async throws {
        let gate = HandoffGate(me: "c", timeout: .seconds(60))
        // Its first member set: "before" is empty; a's users come to c from a.
        gate.membershipChanged(from: Membership([]), to: three)
        try await expectHeld(gate, user(movingFrom: "a", to: "c", before: two, after: three), until: "a's release") {
            gate.released(by: "b", membership: HandoffGate.hash(three))
        } release: {
            gate.released(by: "a", membership: HandoffGate.hash(three))
        }
    }

    @Test func aNodeLeavingCleanlyIsWaitedForAndOneThatDiedIsNot() async throws {
        let gate = HandoffGate(me: "b", timeout: .seconds(60))
        let withoutA = Membership([.init(id: "b", url: "ws://b"), .init(id: "c", url: "ws://c")])
        gate.membershipChanged(from: three, to: withoutA, leaving: ["a"])
        try await expectHeld(gate, user(movingFrom: "a", to: "b", before: three, after: withoutA), until: "the leaver's release") {
        } release: {
            // a releases for the set without it, then closes.
            gate.released(by: "a", membership: HandoffGate.hash(withoutA))
        }
    }

    @Test func aSecondChangeBeforeTheFirstOnesReleaseDoesNotForgetIt() async throws {
        let gate = HandoffGate(me: "c", timeout: .seconds(60))
        let four = Membership(three.members + [.init(id: "d", url: "ws://d")])
        gate.membershipChanged(from: two, to: three)
        // d joins before a has released for three: c's users that came from a still wait.
        gate.membershipChanged(from: three, to: four)
        let moving = (UInt64(1)...100_000).lazy.map { Snowflake(rawValue: $0) }.first {
            two.owner(of: $0.rawValue)?.id == "a" && three.owner(of: $0.rawValue)?.id == "c" && four.owner(of: $0.rawValue)?.id == "c"
        }!
        try await expectHeld(gate, moving, until: "a's release") {
            gate.released(by: "b", membership: HandoffGate.hash(four))
        } release: {
            gate.released(by: "a", membership: HandoffGate.hash(four))
        }
    }

    @Test func aPreviousOwnerThatNeverReleasesHoldsLoadsOnlyUntilTheDeadline() async throws {
        let gate = HandoffGate(me: "c", timeout: .milliseconds(200))
        gate.membershipChanged(from: two, to: three)
        try await withDeadline(10) { await gate.beforeLoading(user(movingFrom: "a", to: "c", before: two, after: three)) }
    }

    /// A load of `user` is held through `meanwhile` and goes on after `release`.
    func expectHeld(
        _ gate: HandoffGate, _ user: Snowflake, until what: String, meanwhile: () -> Void, release: () -> Void
    ) async throws {
        let loaded = Events<String>()
        let load = Task {
            await gate.beforeLoading(user)
            loaded.record("loaded")
        }
        // Held: it waits at the gate (a gate that did not hold would have let it through).
        try await eventually("the load waits at the gate", within: 10) { gate.waiting == 1 }
        meanwhile()
        #expect(gate.waiting == 1 && loaded.pending.isEmpty)
        release()
        _ = try await loaded.next("the load goes on after \(what)", within: 10)
        await load.value
    }

    /// Runs `body`, failing the test if it has not returned within `seconds`.
    func withDeadline(_ seconds: Double, _ body: @escaping @Sendable () async -> Void) async throws {
        let done = Events<Bool>()
        let task = Task {
            await body()
            done.record(true)
        }
        _ = try await done.next("the gate let the load through", within: seconds)
        await task.value
    }
}
