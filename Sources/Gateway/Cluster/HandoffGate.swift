import Cluster
public import ReadStatesModule
public import Snowflake
import Synchronization

/// Holds back loads of users that just moved to this node until their previous owner
/// has written them to the store and let them go (``ClusterMessage/released(membership:)``),
/// so the new owner never loads a state older than the old owner's last change.
///
/// Waited for: every previous owner still connected to the cluster, that is, still a
/// member or leaving cleanly (it announced its leave and releases everything before it
/// closes). A node's first member set counts every other member as a previous owner
/// (it joined: its users come from all of them). A previous owner that died is not
/// waited for (what it had not written is lost, as on one node). No load waits longer
/// than `timeout` from the moment it began to wait.
public final class HandoffGate: Sendable {
    private struct Waiter {
        var id: Int
        var node: String
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var me: String
        var before = Membership([])
        var current = Membership([])
        /// Previous owners whose release for `current` has not come yet.
        var waitingFor: Set<String> = []
        /// The newest membership hash each node said it released for (it may come
        /// before this node sees the same membership).
        var releasedFor: [String: UInt64] = [:]
        var waiters: [Waiter] = []
        var nextWaiter = 0
    }

    private let state: Mutex<State>
    let timeout: Duration

    public init(me: String, timeout: Duration = .seconds(5)) {
        state = Mutex(State(me: me))
        self.timeout = timeout
    }

    static func hash(_ membership: Membership) -> UInt64 {
        Rendezvous.nodeHash(membership.ids.joined(separator: ","))
    }

    /// The member set changed. `leaving`: nodes that announced a clean leave (gone from
    /// `after`, but they release what they held before they close).
    func membershipChanged(from before: Membership, to after: Membership, leaving: Set<String> = []) {
        let released = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let me = state.me
            // The first set (this node joined): every other member held its users.
            let previous = before.members.isEmpty ? Membership(after.members.filter { $0.id != me }) : before
            state.before = previous
            state.current = after
            let hash = Self.hash(after)
            let holders = previous.ids.filter { $0 != me && (after.contains($0) || leaving.contains($0)) }
            state.waitingFor = Set(holders.filter { state.releasedFor[$0] != hash })
            return takeReleased(&state)
        }
        for continuation in released { continuation.resume() }
    }

    /// `node` wrote and let go of what it no longer owns under the membership `hash`.
    func released(by node: String, membership hash: UInt64) {
        let released = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.releasedFor[node] = hash
            if hash == Self.hash(state.current) { state.waitingFor.remove(node) }
            return takeReleased(&state)
        }
        for continuation in released { continuation.resume() }
    }

    private func takeReleased(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        let waiting = state.waitingFor
        let done = state.waiters.filter { !waiting.contains($0.node) }
        state.waiters.removeAll { !waiting.contains($0.node) }
        return done.map(\.continuation)
    }

    /// Returns once `user` may be loaded here: at once unless its previous owner has
    /// not released yet (then at most `timeout`).
    func beforeLoading(_ user: Snowflake) async {
        let waiter = state.withLock { state -> (id: Int, node: String)? in
            guard !state.waitingFor.isEmpty, let previous = state.before.owner(of: user.rawValue)?.id,
                state.waitingFor.contains(previous)
            else { return nil }
            state.nextWaiter += 1
            return (state.nextWaiter, previous)
        }
        guard let waiter else { return }
        // This waiter's own deadline: a later member change cannot move it.
        let deadline = ContinuousClock.now + timeout
        let timer = Task { [self] in
            try? await Task.sleep(until: deadline)
            let late = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == waiter.id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            late?.resume()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                // Past the deadline already (the timer found nothing to wake): go on.
                guard state.waitingFor.contains(waiter.node), ContinuousClock.now < deadline else { return true }
                state.waiters.append(Waiter(id: waiter.id, node: waiter.node, continuation: continuation))
                return false
            }
            if now { continuation.resume() }
        }
        timer.cancel()
    }
}

/// The engine's persistence behind the gate: loads of a user who just moved here
/// wait for the previous owner's release; everything else goes straight through.
public struct HandoffPersistence: ReadStatesPersistence {
    let inner: any ReadStatesPersistence
    let gate: HandoffGate

    public init(_ inner: any ReadStatesPersistence, gate: HandoffGate) {
        self.inner = inner
        self.gate = gate
    }

    public func load(user: Snowflake) async throws -> [ReadState] {
        await gate.beforeLoading(user)
        return try await inner.load(user: user)
    }

    public func evicted(user: Snowflake, dirtyStates: [ReadState]) {
        inner.evicted(user: user, dirtyStates: dirtyStates)
    }
}
