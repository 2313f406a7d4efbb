/// Deterministic PRNG
public struct SplitMix64 {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func below(_ n: UInt64) -> UInt64 { next() % n }
}

public enum FrameKind: Int, Sendable { case ack = 0, create = 1 }

public struct Frame: Sendable {
    public let kind: FrameKind
    public let bytes: [UInt8]
}

/// Discord-like snowflake: (ms since 2015) << 22 | worker << 17 | process << 12 | increment
func snowflake(ms: UInt64, worker: UInt64, process: UInt64, inc: UInt64) -> UInt64 {
    ((ms - 1_420_070_400_000) << 22) | (worker << 17) | (process << 12) | (inc & 0xFFF)
}

let words = ["hello", "there", "some", "text", "lol", "ok", "what", "is", "the", "deploy", "status",
             "anyone", "seen", "this", "bug", "yes", "no", "maybe", "tomorrow", "meeting", "at", "3pm",
             "thanks", "gg", "nice", "link", "image", "check", "server", "voice", "channel", "later"]

public struct FrameFactory {
    var rng: SplitMix64
    var ms: UInt64 = 1_717_000_000_000  // mid-2024
    var seq = 0
    var version: UInt64 = 9_012_345_678_901
    let channels: [UInt64]
    let users: [UInt64]

    public init(seed: UInt64 = 42) {
        rng = SplitMix64(seed: seed)
        var r = SplitMix64(seed: seed ^ 0xABCDEF)
        channels = (0..<40).map { _ in snowflake(ms: 1_450_000_000_000 + r.below(250_000_000_000), worker: r.below(32), process: r.below(32), inc: r.below(4096)) }
        users = (0..<200).map { _ in snowflake(ms: 1_440_000_000_000 + r.below(270_000_000_000), worker: r.below(32), process: r.below(32), inc: r.below(4096)) }
    }

    mutating func nextMessageID() -> UInt64 {
        ms += 1 + rng.below(3000)
        return snowflake(ms: ms, worker: rng.below(32), process: rng.below(32), inc: rng.below(4096))
    }

    public mutating func ack() -> String {
        seq += 1
        version += 1 + rng.below(50)
        let ch = channels[Int(rng.below(UInt64(channels.count)))]
        let msg = nextMessageID()
        return #"{"op":0,"d":{"channel_id":"\#(ch)","message_id":"\#(msg)","mention_count":0,"version":\#(version),"manual":false,"changed":true},"s":\#(seq),"t":"MESSAGE_ACK"}"#
    }

    public mutating func create() -> String {
        seq += 1
        let ch = channels[Int(rng.below(UInt64(channels.count)))]
        let msg = nextMessageID()
        let author = users[Int(rng.below(UInt64(users.count)))]
        let mentioned = users[Int(rng.below(UInt64(users.count)))]
        var content = ""
        let n = 2 + Int(rng.below(8))
        for i in 0..<n {
            if i > 0 { content += " " }
            content += words[Int(rng.below(UInt64(words.count)))]
            if i == 1 { content += " <@\(mentioned)>" }
        }
        return #"{"op":0,"d":{"id":"\#(msg)","channel_id":"\#(ch)","author":{"id":"\#(author)"},"content":"\#(content)","mentions":[{"id":"\#(mentioned)"}],"mention_everyone":false},"s":\#(seq),"t":"MESSAGE_CREATE"}"#
    }

    /// Pool of small frames, ACK/CREATE chosen at random 50/50.
    public mutating func smallPool(count: Int) -> [Frame] {
        (0..<count).map { _ in
            rng.below(2) == 0 ? Frame(kind: .ack, bytes: Array(ack().utf8)) : Frame(kind: .create, bytes: Array(create().utf8))
        }
    }

    /// READY with `entries` read states and `nChannels` channels.
    public mutating func ready(entries: Int = 1000, nChannels: Int = 200) -> [UInt8] {
        var sid = ""
        for _ in 0..<2 { sid += String(rng.next(), radix: 16) }
        var s = #"{"op":0,"d":{"v":10,"session_id":"\#(sid)","read_state":{"version":1,"partial":false,"entries":["#
        for i in 0..<entries {
            if i > 0 { s += "," }
            let id = snowflake(ms: 1_440_000_000_000 + rng.below(270_000_000_000), worker: rng.below(32), process: rng.below(32), inc: rng.below(4096))
            let last = snowflake(ms: 1_690_000_000_000 + rng.below(27_000_000_000), worker: rng.below(32), process: rng.below(32), inc: rng.below(4096))
            let mc = rng.below(10) == 0 ? rng.below(20) : 0
            s += #"{"id":"\#(id)","last_message_id":"\#(last)","mention_count":\#(mc)}"#
        }
        s += #"]},"channels":["#
        for i in 0..<nChannels {
            if i > 0 { s += "," }
            let id = snowflake(ms: 1_440_000_000_000 + rng.below(270_000_000_000), worker: rng.below(32), process: rng.below(32), inc: rng.below(4096))
            let parent = channels[Int(rng.below(UInt64(channels.count)))]
            let last = snowflake(ms: 1_690_000_000_000 + rng.below(27_000_000_000), worker: rng.below(32), process: rng.below(32), inc: rng.below(4096))
            let name = words[Int(rng.below(UInt64(words.count)))] + "-" + words[Int(rng.below(UInt64(words.count)))]
            s += #"{"id":"\#(id)","type":\#(rng.below(3) == 0 ? 2 : 0),"name":"\#(name)","position":\#(i),"parent_id":"\#(parent)","last_message_id":"\#(last)","nsfw":false,"rate_limit_per_user":0,"topic":null}"#
        }
        s += "]}}"
        return Array(s.utf8)
    }
}
