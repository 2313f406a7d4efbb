import Synchronization

/// Events a test collects from callbacks on other threads, and awaits with a deadline
/// (no polling, no sleeps): ``next(_:within:where:)`` returns the first event after the
/// last one it returned that satisfies the predicate (those passed over are dropped:
/// a later wait never matches an event from before an earlier match), or throws
/// ``DeadlineExceeded``.
public final class Events<Element: Sendable>: Sendable {
    private struct Waiter {
        var id: Int
        var predicate: @Sendable (Element) -> Bool
        var continuation: CheckedContinuation<Element, any Error>
    }

    private struct State {
        var all: [Element] = []
        var unmatched: [Element] = []
        var waiters: [Waiter] = []
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func record(_ element: Element) {
        let matched = state.withLock { state -> CheckedContinuation<Element, any Error>? in
            state.all.append(element)
            if let index = state.waiters.firstIndex(where: { $0.predicate(element) }) {
                return state.waiters.remove(at: index).continuation
            }
            state.unmatched.append(element)
            return nil
        }
        matched?.resume(returning: element)
    }

    /// Everything recorded, in order.
    public var history: [Element] { state.withLock { $0.all } }

    /// Everything recorded and not yet returned by ``next(_:within:where:)``.
    public var pending: [Element] { state.withLock { $0.unmatched } }

    public func next(
        _ what: String, within seconds: Double = 30, where predicate: @escaping @Sendable (Element) -> Bool = { _ in true }
    ) async throws -> Element {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        let timeout = Task { [self] in
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: DeadlineExceeded(what: what, seconds: seconds))
        }
        defer { timeout.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let found = state.withLock { state -> Element? in
                if let index = state.unmatched.firstIndex(where: predicate) {
                    let found = state.unmatched[index]
                    state.unmatched.removeFirst(index + 1)
                    return found
                }
                state.unmatched.removeAll()
                state.waiters.append(Waiter(id: id, predicate: predicate, continuation: continuation))
                return nil
            }
            if let found { continuation.resume(returning: found) }
        }
    }
}
