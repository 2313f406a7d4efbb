/// Puts a connection's dispatch frames back in the order of their `s` before they are
/// queued for the socket.
///
/// With several service threads, frames for one session are numbered under the
/// session registry's lock (``SharedSessions``) on whichever thread dispatched, then
/// handed to the connection's thread: two threads may hand over `s` 7 and 8 in the
/// other order. A frame that comes early waits here for the ones before it. The first
/// dispatch of a connection (READY, or a RESUME's replay) is numbered together with the
/// connection's attachment, so nothing can come before it.
struct SequencedOutbox {
    /// The `s` of the next dispatch to send; nil before the first.
    private var next: Int?
    /// Frames that came early, by `s`.
    private var early: [Int: DispatchFrame] = [:]
    /// Bytes of the frames held: they count against the connection's backlog bound.
    private(set) var earlyBytes = 0
    /// Early frames past which the wait for a missing one is given up, so that a bug
    /// cannot hold a connection's frames for ever: the held ones go out in order.
    static let maximumEarly = 1_024

    /// The frames to queue now, in order: `frame` itself, those it released, or none.
    /// Dispatches stay ``DispatchFrame``s (written in place by the transport); only one
    /// that has to wait here is held.
    mutating func admit(_ frame: DispatchFrame) -> [DispatchFrame] {
        guard let sequence = frame.sequence else { return [frame] }
        guard let expected = next else {
            next = sequence + 1
            return [frame] + released()
        }
        if sequence < expected { return [] }  // already sent (or given up on): stale
        if sequence > expected {
            early[sequence] = frame
            earlyBytes += frame.count
            return early.count > Self.maximumEarly ? giveUp() : []
        }
        next = sequence + 1
        return early.isEmpty ? [frame] : [frame] + released()
    }

    private mutating func released() -> [DispatchFrame] {
        var out: [DispatchFrame] = []
        while let expected = next, let frame = early.removeValue(forKey: expected) {
            earlyBytes -= frame.count
            out.append(frame)
            next = expected + 1
        }
        return out
    }

    private mutating func giveUp() -> [DispatchFrame] {
        let ordered = early.sorted { $0.key < $1.key }
        early = [:]
        earlyBytes = 0
        next = (ordered.last?.key ?? 0) + 1
        return ordered.map(\.value)
    }
}
