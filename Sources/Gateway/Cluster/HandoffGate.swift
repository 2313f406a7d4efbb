import Cluster
public import ReadStatesModule
public import Snowflake
import Synchronization

/// Holds back loads of users that just moved to this node until their previous owner
/// has written them to the store and let them go (``ClusterMessage/released(membership:)``),
/// so the new owner never loads a state older than the old owner's last change. A
/// previous owner that died is not waited for (what it had not written is lost, as on
/// one node); one that does not answer is waited for at most `timeout`.
public final class HandoffGate: Sendable {
    private struct State {
        var me: String
        var before = Membership([])
        var current = Membership([])
        /// Surviving nodes whose release for `current` has not come yet.
        var waitingFor: Set<String> = []
        /// The newest membership hash each node said it released for (it may come
        /// before this node sees the same membership).
        var releasedFor: [String: UInt64] = [:]
        var waiters: [(node: String, continuation: CheckedContinuation<Void, Never>)] = []
        var deadline: ContinuousClock.Instant = .now
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

    /// The member set changed: users may move here from every node that is still alive.
    func membershipChanged(from before: Membership, to after: Membership) {
        let released = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.before = before
            state.current = after
            let hash = Self.hash(after)
            let survivors = before.ids.filter { $0 != state.me && after.contains($0) }
            state.waitingFor = Set(survivors.filter { state.releasedFor[$0] != hash })
            state.deadline = .now + timeout
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
        let (done, still) = (state.waiters.filter { !waiting.contains($0.node) }, state.waiters.filter { waiting.contains($0.node) })
        state.waiters = still
        return done.map(\.continuation)
    }

    /// Returns once `user` may be loaded here: at once unless its previous owner is a
    /// survivor that has not released yet (then at most until the deadline).
    func beforeLoading(_ user: Snowflake) async {
        let wait = state.withLock { state -> (node: String, until: ContinuousClock.Instant)? in
            guard !state.waitingFor.isEmpty, ContinuousClock.now < state.deadline,
                let previous = state.before.owner(of: user.rawValue)?.id, state.waitingFor.contains(previous)
            else { return nil }
            return (previous, state.deadline)
        }
        guard let wait else { return }
        let timer = Task { [self] in
            try? await Task.sleep(until: wait.until)
            let late = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                if ContinuousClock.now >= state.deadline { state.waitingFor = [] }
                return takeReleased(&state)
            }
            for continuation in late { continuation.resume() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.waitingFor.contains(wait.node) else { return true }
                state.waiters.append((wait.node, continuation))
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
