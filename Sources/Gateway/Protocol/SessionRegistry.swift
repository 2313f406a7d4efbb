public import Snowflake

/// Sessions that may be resumed: each keeps its sequence counter and its recent
/// dispatches, while connected and for `resumeWindow` after its connection dropped,
/// so RESUME can replay what the client missed. Pure bookkeeping: frames in, frames
/// out; the transport owns the sockets. Used on the service thread only.
public struct SessionRegistry {
    public struct Record {
        public let sessionID: String
        public let user: Snowflake
        /// The last sequence number given out.
        public private(set) var sequence = 0
        /// The connection it is attached to, nil while disconnected.
        public var connection: Int?
        /// The newest dispatches, oldest first, with their sequence numbers.
        private var history: [(sequence: Int, frame: [UInt8])] = []
        private var historyStart = 0
        let historyLimit: Int

        init(sessionID: String, user: Snowflake, connection: Int, historyLimit: Int) {
            self.sessionID = sessionID
            self.user = user
            self.connection = connection
            self.historyLimit = historyLimit
        }

        /// Numbers and records a dispatch; returns its frame.
        mutating func dispatch(_ type: String, payload: [UInt8]) -> [UInt8] {
            sequence += 1
            let frame = ServerFrame.dispatch(type, sequence: sequence, payload: payload)
            if history.count < historyLimit {
                history.append((sequence, frame))
            } else {
                history[historyStart] = (sequence, frame)
                historyStart = (historyStart + 1) % historyLimit
            }
            return frame
        }

        /// The dispatches after `sequence`, oldest first; nil when they are no longer
        /// all kept or `sequence` is ahead of the session.
        func frames(after sequence: Int) -> [[UInt8]]? {
            guard sequence <= self.sequence, sequence >= 0 else { return nil }
            let ordered = Array(history[historyStart...] + history[..<historyStart])
            let oldestKept = ordered.first?.sequence ?? self.sequence + 1
            guard sequence + 1 >= oldestKept else { return nil }
            return ordered.filter { $0.sequence > sequence }.map(\.frame)
        }
    }

    public enum ResumeError: Error, Equatable {
        /// No such session (never, expired, or another user's): INVALID_SESSION.
        case unknownSession
        /// The client's sequence is ahead, or older than what is kept: close 4007.
        case invalidSequence
    }

    public let resumeWindowMilliseconds: UInt64
    public let historyLimit: Int
    private var records: [String: Record] = [:]
    private var byUser: [Snowflake: [String]] = [:]
    /// Sessions waiting for a RESUME, and since when: what `expire` looks at, so its
    /// once-a-second pass costs the detached sessions, not all of them (10,000
    /// connected sessions made it 3 ms of the service thread).
    private var detached: [String: UInt64] = [:]

    public init(resumeWindowMilliseconds: UInt64 = 120_000, historyLimit: Int = 1_000) {
        self.resumeWindowMilliseconds = resumeWindowMilliseconds
        self.historyLimit = historyLimit
    }

    public mutating func create(sessionID: String, user: Snowflake, connection: Int) {
        records[sessionID] = Record(sessionID: sessionID, user: user, connection: connection, historyLimit: historyLimit)
        byUser[user, default: []].append(sessionID)
    }

    /// The user's sessions, connected or waiting to be resumed.
    public func sessions(of user: Snowflake) -> [String] {
        byUser[user] ?? []
    }

    public func connection(of sessionID: String) -> Int? {
        records[sessionID]?.connection
    }

    /// Numbers and keeps a dispatch for a session; nil when the session is gone.
    public mutating func dispatch(_ type: String, _ data: some Encodable, to sessionID: String) -> [UInt8]? {
        dispatch(type, payload: ServerFrame.payload(data), to: sessionID)
    }

    /// The same, for a `d` already encoded with ``ServerFrame/payload(_:)``.
    public mutating func dispatch(_ type: String, payload: [UInt8], to sessionID: String) -> [UInt8]? {
        records[sessionID]?.dispatch(type, payload: payload)
    }

    /// The session's connection dropped: it waits `resumeWindow` for a RESUME.
    public mutating func detach(_ sessionID: String, now: UInt64) {
        guard records[sessionID] != nil else { return }
        records[sessionID]?.connection = nil
        detached[sessionID] = now
    }

    /// Ends a session at once (it can no longer be resumed).
    public mutating func remove(_ sessionID: String) {
        guard let record = records.removeValue(forKey: sessionID) else { return }
        detached[sessionID] = nil
        byUser[record.user]?.removeAll { $0 == sessionID }
        if byUser[record.user]?.isEmpty == true { byUser[record.user] = nil }
    }

    /// Forgets sessions disconnected for longer than the window.
    public mutating func expire(now: UInt64) {
        guard !detached.isEmpty else { return }
        let expired = detached.filter { now >= $0.value + resumeWindowMilliseconds }.map(\.key)
        for sessionID in expired { remove(sessionID) }
    }

    /// Attaches a new connection to a session and returns the dispatches to replay.
    public mutating func resume(
        sessionID: String,
        user: Snowflake,
        sequence: Int,
        connection: Int
    ) -> Result<[[UInt8]], ResumeError> {
        guard var record = records[sessionID], record.user == user, record.connection == nil else {
            return .failure(.unknownSession)
        }
        guard let frames = record.frames(after: sequence) else { return .failure(.invalidSequence) }
        record.connection = connection
        detached[sessionID] = nil
        records[sessionID] = record
        return .success(frames)
    }
}
