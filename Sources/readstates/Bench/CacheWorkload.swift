import ReadStatesModule
import Snowflake

/// The users, channels and operation mix of `readstates bench cache`.
///
/// User IDs and channel IDs are Snowflake-shaped (a timestamp in the high bits), so
/// the engine hashes realistic keys, not small integers.
struct CacheWorkload: Sendable {
    enum Operation {
        case mention, ack, get
    }

    let users: Int
    let channelsPerUser: Int
    /// Users that exist (1.25 x `users`): the ones beyond the cache miss and load.
    let universe: Int
    /// The hot fifth of the universe, drawn 90% of the time.
    let hotUsers: Int
    /// Cumulative percentages: below `mentionBelow` mention, below `ackBelow` ack, else get.
    let mentionBelow: Int
    let ackBelow: Int

    init(capacity: Int, users: Int, mix: [Int]) {
        self.users = users
        channelsPerUser = max(capacity / max(users, 1), 1)
        universe = users + users / 4
        hotUsers = max(universe / 5, 1)
        mentionBelow = mix[0]
        ackBelow = mix[0] + mix[1]
    }

    /// 2019-01-01 as a Snowflake timestamp: IDs look like real ones from that year.
    private static let idBase: UInt64 = (1_546_300_800_000 - Snowflake.discordEpochMilliseconds) << 22

    @inline(__always)
    func userID(_ index: Int) -> Snowflake {
        Snowflake(rawValue: Self.idBase &+ (UInt64(index) << 12))
    }

    /// A user's channels come from a shared pool, as guild channels do.
    @inline(__always)
    func channelID(user: Int, _ slot: Int) -> Snowflake {
        let pool = 1 << 20
        let channel = (user &* 7 &+ slot) & (pool - 1)
        return Snowflake(rawValue: Self.idBase &+ (1 << 40) &+ (UInt64(channel) << 12))
    }

    /// The states a user "loads with" (the simulated store: made, no I/O).
    func storedStates(of user: Int) -> [ReadState] {
        (0..<channelsPerUser).map { slot in
            ReadState(
                channelID: channelID(user: user, slot),
                lastMessageID: Snowflake(rawValue: Self.idBase),
                mentionCount: 0,
                version: 1
            )
        }
    }

    @inline(__always)
    func drawUser(_ random: inout FastRandom) -> Int {
        random.next(below: 10) < 9 ? random.next(below: hotUsers) : random.next(below: universe)
    }

    @inline(__always)
    func drawOperation(_ random: inout FastRandom) -> Operation {
        let roll = random.next(below: 100)
        return roll < mentionBelow ? .mention : roll < ackBelow ? .ack : .get
    }
}

/// A persistence that stores nothing: the benchmark loads users itself (simulated)
/// and only counts what eviction hands over.
final class DiscardingPersistence: ReadStatesPersistence {
    func load(user: Snowflake) async throws -> [ReadState] { [] }
    func evicted(user: Snowflake, dirtyStates: [ReadState]) {}
}
