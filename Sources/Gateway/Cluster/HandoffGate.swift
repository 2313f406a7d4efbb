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
    /// One member change's moves: who held the users before it, and whose release for
    /// it has not come yet. Kept until all released or its deadline: a second change
    /// coming quickly must not make the first one's moves forgotten.
    private struct Handoff {
        var id: Int
        var before: Membership
        var hash: UInt64
        var waitingFor: Set<String>
        var deadline: ContinuousClock.Instant
    }

    private struct Waiter {
        var id: Int
        var handoff: Int
        var node: String
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var me: String
        var current = Membership([])
        var handoffs: [Handoff] = []
        /// The newest membership hash each node said it released for (it may come
        /// before this node sees the same membership).
        var releasedFor: [String: UInt64] = [:]
        var waiters: [Waiter] = []
        var nextID = 0
    }

    private let state: Mutex<State>
    let timeout: Duration

    public init(me: String, timeout: Duration = .seconds(5)) {
        state = Mutex(State(me: me))
        self.timeout = timeout
    }

    /// Loads waiting now (for tests: a load that is held is one of them).
    var waiting: Int { state.withLock { $0.waiters.count } }

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
            state.current = after
            let hash = Self.hash(after)
            let holders = previous.ids.filter { $0 != me && (after.contains($0) || leaving.contains($0)) }
            let waiting = Set(holders.filter { state.releasedFor[$0] != hash })
            let now = ContinuousClock.now
            state.handoffs.removeAll { $0.waitingFor.isEmpty || $0.deadline <= now }
            if !waiting.isEmpty {
                state.nextID += 1
                state.handoffs.append(Handoff(id: state.nextID, before: previous, hash: hash, waitingFor: waiting, deadline: now + timeout))
            }
            return takeReleased(&state)
        }
        for continuation in released { continuation.resume() }
    }

    /// `node` wrote and let go of what it no longer owns under the membership `hash`:
    /// that covers the change with that hash and every one before it (and, for the
    /// current set, all of them).
    func released(by node: String, membership hash: UInt64) {
        let released = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.releasedFor[node] = hash
            let last = hash == Self.hash(state.current) ? state.handoffs.indices.last : state.handoffs.lastIndex { $0.hash == hash }
            if let last {
                for index in state.handoffs.indices where index <= last { state.handoffs[index].waitingFor.remove(node) }
            }
            return takeReleased(&state)
        }
        for continuation in released { continuation.resume() }
    }

    /// The waiters whose node is no longer waited for in their change.
    private func takeReleased(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        let handoffs = state.handoffs
        let isDone = { (waiter: Waiter) in !(handoffs.first { $0.id == waiter.handoff }?.waitingFor.contains(waiter.node) ?? false) }
        let done = state.waiters.filter(isDone)
        state.waiters.removeAll(where: isDone)
        return done.map(\.continuation)
    }

    /// Returns once `user` may be loaded here: at once unless a previous owner of it
    /// (in any change still under way) has not released yet; at most `timeout` per
    /// change waited for.
    func beforeLoading(_ user: Snowflake) async {
        for _ in 0..<4 {
            let wait = state.withLock { state -> (waiter: Int, handoff: Int, node: String, deadline: ContinuousClock.Instant)? in
                let now = ContinuousClock.now
                for handoff in state.handoffs.reversed() where handoff.deadline > now {
                    guard let previous = handoff.before.owner(of: user.rawValue)?.id, handoff.waitingFor.contains(previous) else {
                        continue
                    }
                    state.nextID += 1
                    return (state.nextID, handoff.id, previous, min(handoff.deadline, now + timeout))
                }
                return nil
            }
            guard let wait else { return }
            await hold(wait.waiter, handoff: wait.handoff, node: wait.node, until: wait.deadline)
        }
    }

    /// Waits until `node` released for the change, or `deadline`.
    private func hold(_ id: Int, handoff: Int, node: String, until deadline: ContinuousClock.Instant) async {
        let timer = Task { [self] in
            try? await Task.sleep(until: deadline)
            let late = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            late?.resume()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                // Released meanwhile, or past the deadline (the timer found nothing to wake): go on.
                guard ContinuousClock.now < deadline,
                    state.handoffs.first(where: { $0.id == handoff })?.waitingFor.contains(node) ?? false
                else { return true }
                state.waiters.append(Waiter(id: id, handoff: handoff, node: node, continuation: continuation))
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
