public import Snowflake

/// Sessions that may be resumed: each keeps its sequence counter and its recent
/// dispatches, while connected and for `resumeWindow` after its connection dropped,
/// so RESUME can replay what the client missed. Pure bookkeeping: frames in, frames
/// out; the transport owns the sockets. Each one belongs to a shard of
/// ``SharedSessions`` and is used only under that shard's lock, from any service thread.
public struct SessionRegistry: Sendable {
    public struct Record: Sendable {
        public let sessionID: String
        public let user: Snowflake
        /// The last sequence number given out.
        public private(set) var sequence = 0
        /// The connection it is attached to, nil while disconnected.
        public var connection: Int?
        /// The server is closing that connection (its close frame is on its way):
        /// dispatches are still kept for RESUME, but no longer sent to it.
        var closing = false
        /// The newest dispatches, oldest first from `head`, with their sequence numbers.
        private var history: [(sequence: Int, frame: DispatchFrame)] = []
        private var head = 0
        /// Bytes of the frames kept, as they go out (an event's `d`, shared by the
        /// sessions it went to, is counted for each: the bound is what a RESUME may
        /// replay, and stays on the safe side of the memory held).
        private(set) var historyBytes = 0

        init(sessionID: String, user: Snowflake, connection: Int) {
            self.sessionID = sessionID
            self.user = user
            self.connection = connection
        }

        var keptCount: Int { history.count - head }

        /// Numbers and records a dispatch written whole, then drops the oldest frames
        /// past `limits` (the newest one is always kept).
        /// - Returns: the frame, and by how much the bytes kept changed.
        mutating func dispatch(_ type: String, writing payload: some JSONWritable, limits: HistoryLimits) -> (frame: DispatchFrame, bytesDelta: Int) {
            sequence += 1
            return keep(DispatchFrame(whole: ServerFrame.dispatch(type, sequence: sequence, writing: payload)), limits: limits)
        }

        /// The same for an event shared with the other sessions it goes to.
        mutating func dispatch(_ event: DispatchFrame.SharedEvent, limits: HistoryLimits) -> (frame: DispatchFrame, bytesDelta: Int) {
            sequence += 1
            return keep(DispatchFrame(event, sequence: sequence), limits: limits)
        }

        private mutating func keep(_ frame: DispatchFrame, limits: HistoryLimits) -> (frame: DispatchFrame, bytesDelta: Int) {
            let before = historyBytes
            history.append((sequence, frame))
            historyBytes += frame.count
            trim(toBytes: limits.bytesPerSession, count: limits.dispatchesPerSession)
            return (frame, historyBytes - before)
        }

        /// Drops the oldest frames until at most `bytes` and `count` are kept (the
        /// newest frame stays whatever its size).
        /// - Returns: the bytes released.
        @discardableResult
        mutating func trim(toBytes bytes: Int, count: Int) -> Int {
            let before = historyBytes
            while keptCount > 1 && (historyBytes > bytes || keptCount > count) {
                historyBytes -= history[head].frame.count
                history[head].frame = .released  // released now, not at the next compaction
                head += 1
            }
            // Compacted once the dropped half outweighs the kept one: amortised O(1).
            if head > 64 && head * 2 > history.count {
                history.removeFirst(head)
                head = 0
            }
            return before - historyBytes
        }

        /// The dispatches after `sequence`, oldest first; nil when they are no longer
        /// all kept or `sequence` is ahead of the session.
        func frames(after sequence: Int) -> [[UInt8]]? {
            guard sequence <= self.sequence, sequence >= 0 else { return nil }
            let oldestKept = head < history.count ? history[head].sequence : self.sequence + 1
            guard sequence + 1 >= oldestKept else { return nil }
            return history[head...].filter { $0.sequence > sequence }.map(\.frame.bytes)
        }
    }

    /// What the resume history may hold.
    public struct HistoryLimits: Sendable, Equatable {
        /// Bytes of dispatches kept per session (the newest one always is).
        public var bytesPerSession: Int
        /// Dispatches kept per session.
        public var dispatchesPerSession: Int
        /// Bytes kept for all sessions together. Past it, the sessions that have waited
        /// longest for a RESUME are forgotten first; when none waits, the session being
        /// dispatched to keeps only its newest dispatch.
        public var totalBytes: Int

        public init(bytesPerSession: Int = 256 << 10, dispatchesPerSession: Int = 1_000, totalBytes: Int = 512 << 20) {
            self.bytesPerSession = bytesPerSession
            self.dispatchesPerSession = dispatchesPerSession
            self.totalBytes = totalBytes
        }
    }

    public enum ResumeError: Error, Equatable {
        /// No such session (never, expired, another user's, or forgotten for memory;
        /// or it asks for dispatches no longer kept): INVALID_SESSION, IDENTIFY again.
        case unknownSession
        /// The client's sequence is ahead of the session: close 4007.
        case invalidSequence
    }

    public let resumeWindowMilliseconds: UInt64
    public let limits: HistoryLimits
    /// Bytes of dispatches kept for RESUME, all sessions together.
    public private(set) var historyBytes = 0
    /// Records by slot: a dispatch to a channel's members reaches each session through
    /// `byUser` and an array index. Keyed by session ID, every recipient cost a hash of
    /// its 32-character ID and a comparison (3% of the gateway's CPU at 1,000 sessions
    /// and 3,000 events/s, `perf record --call-graph dwarf`).
    private var slots: [Record?] = []
    /// Slots free for the next session.
    private var freeSlots: [Int] = []
    /// The slot of each session ID: for RESUME, detaching and removing.
    private var slotOf: [String: Int] = [:]
    /// The slots of each user's sessions.
    private var byUser: [Snowflake: UserSlots] = [:]

    /// A user's sessions' slots, oldest first: the first inline, since most users have
    /// one session, and a dispatch to them then reads no array of its own.
    private struct UserSlots: Sendable {
        var first: Int
        var more: [Int] = []

        var all: [Int] { [first] + more }

        /// Removes `slot`. - Returns: false when no slot is left.
        mutating func remove(_ slot: Int) -> Bool {
            if first == slot {
                guard !more.isEmpty else { return false }
                first = more.removeFirst()
            } else {
                more.removeAll { $0 == slot }
            }
            return true
        }
    }
    /// Sessions waiting for a RESUME, and since when: what `expire` looks at, so its
    /// once-a-second pass costs the detached sessions, not all of them (10,000
    /// connected sessions made it 3 ms of the service thread).
    private var detached: [String: UInt64] = [:]
    /// The same sessions in the order they were detached (oldest first from
    /// `detachedHead`), for forgetting the longest-waiting ones without sorting; an
    /// entry whose session was resumed or detached again since is skipped.
    private var detachedOrder: [(sessionID: String, since: UInt64)] = []
    private var detachedHead = 0

    public init(resumeWindowMilliseconds: UInt64 = 120_000, limits: HistoryLimits = HistoryLimits()) {
        self.resumeWindowMilliseconds = resumeWindowMilliseconds
        self.limits = limits
    }

    public mutating func create(sessionID: String, user: Snowflake, connection: Int) {
        remove(sessionID)
        let record = Record(sessionID: sessionID, user: user, connection: connection)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = record
        } else {
            slot = slots.count
            slots.append(record)
        }
        slotOf[sessionID] = slot
        if byUser[user] == nil {
            byUser[user] = UserSlots(first: slot)
        } else {
            byUser[user]!.more.append(slot)
        }
    }

    /// The user's sessions, connected or waiting to be resumed.
    public func sessions(of user: Snowflake) -> [String] {
        byUser[user].map { $0.all.compactMap { slots[$0]?.sessionID } } ?? []
    }

    /// The user whose session it is.
    public func user(of sessionID: String) -> Snowflake? {
        guard let slot = slotOf[sessionID] else { return nil }
        return slots.withUnsafeBufferPointer { $0[slot]?.user }
    }

    public func connection(of sessionID: String) -> Int? {
        guard let slot = slotOf[sessionID] else { return nil }
        // In place: `slots[slot]?.connection` would copy the whole record first.
        return slots.withUnsafeBufferPointer { $0[slot]?.connection }
    }

    /// Sessions known, connected or waiting for a RESUME.
    public var count: Int { slotOf.count }

    /// Numbers and keeps a dispatch for a session; nil when the session is gone.
    public mutating func dispatch(_ type: String, _ data: some Encodable, to sessionID: String) -> [UInt8]? {
        dispatch(type, payload: ServerFrame.payload(data), to: sessionID)
    }

    /// The same, for a `d` already encoded with ``ServerFrame/payload(_:)``.
    public mutating func dispatch(_ type: String, payload: [UInt8], to sessionID: String) -> [UInt8]? {
        dispatch(type, writing: EncodedJSON(payload), to: sessionID)
    }

    /// The same, for a `d` written straight into the frame (READY: no copy of 170 KB).
    public mutating func dispatch(_ type: String, writing payload: some JSONWritable, to sessionID: String) -> [UInt8]? {
        dispatchAttached(type, writing: payload, to: sessionID)?.frame.bytes
    }

    /// The same, with the connection to send it to: nil while the session waits for a
    /// RESUME or its connection is closing.
    public mutating func dispatchAttached(
        _ type: String, writing payload: some JSONWritable, to sessionID: String
    ) -> (connection: Int?, frame: DispatchFrame)? {
        guard let slot = slotOf[sessionID] else { return nil }
        // In place through the optional: a copy of the record (retains and all) per
        // frame was measurable.
        let (frame, delta) = slots[slot]!.dispatch(type, writing: payload, limits: limits)
        return (kept(delta, slot: slot), frame)
    }

    /// Accounts for a dispatch just kept by the session in `slot`.
    /// - Returns: the connection to send it to (nil while the session waits for a
    ///   RESUME or its connection is closing).
    private mutating func kept(_ delta: Int, slot: Int) -> Int? {
        historyBytes += delta
        if historyBytes > limits.totalBytes { makeRoom(keeping: slot) }
        return slots.withUnsafeBufferPointer { $0[slot]!.closing ? nil : $0[slot]!.connection }
    }

    /// Numbers and keeps a dispatch of `event` (shared by all of them) for every
    /// session of `user`, and hands each frame to `deliver` with the connection to
    /// send it to (as ``dispatchAttached(_:writing:to:)``).
    public mutating func dispatch(
        _ event: DispatchFrame.SharedEvent, toUser user: Snowflake,
        _ deliver: (_ connection: Int?, _ frame: DispatchFrame) -> Void
    ) {
        guard let userSlots = byUser[user] else { return }
        dispatch(event, toSlot: userSlots.first, deliver)
        for slot in userSlots.more { dispatch(event, toSlot: slot, deliver) }
    }

    private mutating func dispatch(
        _ event: DispatchFrame.SharedEvent, toSlot slot: Int, _ deliver: (_ connection: Int?, _ frame: DispatchFrame) -> Void
    ) {
        // Gone when making room for an earlier dispatch of this loop forgot it (a
        // session of the same user waiting for a RESUME); slots are reused only by
        // `create`.
        guard slots[slot] != nil else { return }
        let (frame, delta) = slots[slot]!.dispatch(event, limits: limits)
        deliver(kept(delta, slot: slot), frame)
    }

    /// Over the total: forgets the sessions waiting longest for a RESUME, then, if
    /// that is not enough, trims the session just dispatched to down to its newest
    /// dispatch.
    private mutating func makeRoom(keeping slot: Int) {
        let sessionID = slots[slot]!.sessionID
        while historyBytes > limits.totalBytes, detachedHead < detachedOrder.count {
            let (waiting, since) = detachedOrder[detachedHead]
            detachedHead += 1
            // Still waiting since then (not resumed, nor detached again later)?
            if waiting != sessionID, detached[waiting] == since { remove(waiting) }
        }
        compactDetachedOrder()
        if historyBytes > limits.totalBytes {
            historyBytes -= slots[slot]!.trim(toBytes: 0, count: 1)
        }
    }

    /// Drops the consumed front of `detachedOrder` once it outweighs the rest.
    private mutating func compactDetachedOrder() {
        if detachedHead > 64 && detachedHead * 2 > detachedOrder.count {
            detachedOrder.removeFirst(detachedHead)
            detachedHead = 0
        }
    }

    /// The session's connection dropped: it waits `resumeWindow` for a RESUME.
    public mutating func detach(_ sessionID: String, now: UInt64) {
        guard let slot = slotOf[sessionID] else { return }
        slots[slot]!.connection = nil
        slots[slot]!.closing = false
        detached[sessionID] = now
        detachedOrder.append((sessionID, now))
    }

    /// The server is closing `connection`: the session's dispatches are kept, and no
    /// longer sent to it (unless another connection has taken the session over).
    public mutating func closing(_ sessionID: String, connection: Int) {
        guard let slot = slotOf[sessionID], slots[slot]!.connection == connection else { return }
        slots[slot]!.closing = true
    }

    /// Ends a session at once (it can no longer be resumed).
    public mutating func remove(_ sessionID: String) {
        guard let slot = slotOf.removeValue(forKey: sessionID), let record = slots[slot] else { return }
        slots[slot] = nil
        freeSlots.append(slot)
        historyBytes -= record.historyBytes
        detached[sessionID] = nil
        if byUser[record.user]?.remove(slot) == false { byUser[record.user] = nil }
    }

    /// Forgets sessions disconnected for longer than the window.
    public mutating func expire(now: UInt64) {
        guard !detached.isEmpty else { return }
        // Oldest first, so the pass stops at the first session still inside its window.
        while detachedHead < detachedOrder.count {
            let (sessionID, since) = detachedOrder[detachedHead]
            guard detached[sessionID] != since || now >= since + resumeWindowMilliseconds else { break }
            detachedHead += 1
            if detached[sessionID] == since { remove(sessionID) }
        }
        compactDetachedOrder()
    }

    /// Attaches a new connection to a session and returns the dispatches to replay.
    /// A session that no longer keeps every dispatch the client missed is forgotten
    /// and answered `.unknownSession` (INVALID_SESSION, as Discord does): the client
    /// identifies again and gets a fresh READY instead of a gap.
    public mutating func resume(
        sessionID: String,
        user: Snowflake,
        sequence: Int,
        connection: Int
    ) -> Result<[[UInt8]], ResumeError> {
        guard let slot = slotOf[sessionID], let record = slots[slot], record.user == user, record.connection == nil else {
            return .failure(.unknownSession)
        }
        guard sequence >= 0, sequence <= record.sequence else { return .failure(.invalidSequence) }
        guard let frames = record.frames(after: sequence) else {
            remove(sessionID)
            return .failure(.unknownSession)
        }
        slots[slot]!.connection = connection
        slots[slot]!.closing = false
        detached[sessionID] = nil
        return .success(frames)
    }
}
