public import Snowflake
import Synchronization

/// The resumable sessions of every service thread, for the ``GatewayCore`` of each:
/// ``SessionRegistry`` values in shards by user, each behind its own lock, so that a
/// dispatch to a user, a READY and a RESUME are one short critical section wherever
/// the user's sessions live.
///
/// Sequence numbers are handed out under the shard's lock; a frame built on one thread
/// for a connection on another may still arrive after a later one built on a third, so
/// the connection puts them back in order by `s` (``SequencedOutbox``). READY and RESUME
/// number their first frames and attach the connection in one step, so no other
/// thread's dispatch can come before them.
///
/// With one thread there is one shard and the registry behaves exactly as before; with
/// several, the process-wide history budget is split evenly between the shards.
public final class SharedSessions: Sendable {
    private final class Shard: Sendable {
        let registry: Mutex<SessionRegistry>

        init(_ registry: SessionRegistry) {
            self.registry = Mutex(registry)
        }
    }

    private let shards: [Shard]

    public init(shards: Int = 1, resumeWindowMilliseconds: UInt64 = 120_000, limits: SessionRegistry.HistoryLimits = .init()) {
        let count = max(1, shards)
        var shardLimits = limits
        shardLimits.totalBytes = max(1, limits.totalBytes / count)
        self.shards = (0..<count).map { _ in
            Shard(SessionRegistry(resumeWindowMilliseconds: resumeWindowMilliseconds, limits: shardLimits))
        }
    }

    private func shard(of user: Snowflake) -> Shard {
        // Snowflakes' low bits are a per-process counter: mixed, so shards fill evenly.
        let mixed = (user.rawValue ^ (user.rawValue >> 22)) &* 0x9E37_79B9_7F4A_7C15
        return shards[Int(mixed >> 40) % shards.count]
    }

    /// Sessions known (connected or waiting for a RESUME) and the bytes of dispatches
    /// they keep for RESUME, all shards together, in one pass.
    public var totals: (count: Int, bytes: Int) {
        shards.reduce((0, 0)) { sum, shard in
            let (count, bytes) = shard.registry.withLock { ($0.count, $0.historyBytes) }
            return (sum.0 + count, sum.1 + bytes)
        }
    }

    /// Sessions known, connected or waiting for a RESUME.
    public var count: Int { totals.count }

    /// A new session, attached to `connection`, and its first dispatch (READY).
    public func create(
        sessionID: String, user: Snowflake, connection: Int, first type: String, writing payload: some JSONWritable & Sendable
    ) -> [UInt8]? {
        shard(of: user).registry.withLock { registry in
            registry.create(sessionID: sessionID, user: user, connection: connection)
            return registry.dispatch(type, writing: payload, to: sessionID)
        }
    }

    /// Numbers and keeps a dispatch of `payload` (its `d`, shared by every frame) for
    /// every session of each of `users` (a channel's members), handing each frame to
    /// `deliver`, with the connection to send it to (nil while it waits for a RESUME or
    /// its connection is closing), under its shard's lock. With one shard, one lock for
    /// all: a MESSAGE_CREATE to a channel's members costs no array per member.
    public func dispatch(
        _ type: String, sharing payload: [UInt8], toUsers users: some Collection<Snowflake>,
        _ deliver: (_ connection: Int?, _ frame: DispatchFrame) -> Void
    ) {
        let event = DispatchFrame.SharedEvent(type: type, payload: payload)
        if shards.count == 1 {
            shards[0].registry.withLock { registry in
                for user in users { registry.dispatch(event, toUser: user, deliver) }
            }
            return
        }
        for user in users {
            shard(of: user).registry.withLock { $0.dispatch(event, toUser: user, deliver) }
        }
    }

    /// The same for one session, with a `d` written into its frame.
    public func dispatch(_ type: String, writing payload: some JSONWritable & Sendable, toSession sessionID: String, of user: Snowflake) -> (connection: Int?, frame: DispatchFrame)? {
        shard(of: user).registry.withLock { $0.dispatchAttached(type, writing: payload, to: sessionID) }
    }

    public func connection(of sessionID: String, user: Snowflake) -> Int? {
        shard(of: user).registry.withLock { $0.connection(of: sessionID) }
    }

    /// The server is closing `connection`: the session's dispatches are no longer sent
    /// to it (every thread's dispatches see that under the shard's lock).
    public func closing(_ sessionID: String, user: Snowflake, connection: Int) {
        shard(of: user).registry.withLock { $0.closing(sessionID, connection: connection) }
    }

    /// The session's connection `connection` dropped (unless another has taken the
    /// session over since): it waits for a RESUME, or ends when `end`.
    public func disconnected(_ sessionID: String, user: Snowflake, connection: Int, end: Bool, now: UInt64) {
        shard(of: user).registry.withLock { registry in
            guard registry.connection(of: sessionID) == connection else { return }
            if end {
                registry.remove(sessionID)
            } else {
                registry.detach(sessionID, now: now)
            }
        }
    }

    public func expire(now: UInt64) {
        for shard in shards { shard.registry.withLock { $0.expire(now: now) } }
    }

    /// What a RESUME found.
    public struct Resumed {
        /// The connection the session was still attached to (the client noticed a drop
        /// before the server did): it must be closed; the session has left it.
        public var previous: Int?
        /// The frames to replay, then RESUMED; or why not.
        public var frames: Result<[[UInt8]], SessionRegistry.ResumeError>
    }

    /// Attaches `connection` to the session, takes it from a connection still attached,
    /// and numbers RESUMED after the replay, in one step.
    public func resume(sessionID: String, user: Snowflake, sequence: Int, connection: Int, now: UInt64) -> Resumed {
        shard(of: user).registry.withLock { registry in
            var previous: Int?
            // Only the session's own user takes it over: a RESUME naming another
            // user's session must not cut that user's connection.
            if registry.user(of: sessionID) == user, let attached = registry.connection(of: sessionID), attached != connection {
                previous = attached
                registry.detach(sessionID, now: now)
            }
            switch registry.resume(sessionID: sessionID, user: user, sequence: sequence, connection: connection) {
            case .success(var frames):
                if let resumed = registry.dispatch("RESUMED", writing: EncodedJSON(Array("null".utf8)), to: sessionID) {
                    frames.append(resumed)
                }
                return Resumed(previous: previous, frames: .success(frames))
            case .failure(let error):
                return Resumed(previous: previous, frames: .failure(error))
            }
        }
    }
}
