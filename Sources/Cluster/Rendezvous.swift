/// Rendezvous (highest random weight) hashing: a key goes to the node whose
/// `weight(node, key)` is highest. When a node joins, it takes only the keys it now
/// wins; when one leaves, only its keys move, each to its runner-up. Every node that
/// sees the same member set computes the same owner, with no table to agree on.
public enum Rendezvous {
    /// The node among `nodes` (their IDs' hashes, from ``nodeHash(_:)``) that owns `key`.
    /// - Returns: an index into `nodes`, nil when it is empty.
    public static func owner(of key: UInt64, among nodes: [UInt64]) -> Int? {
        var best: Int?
        var bestWeight: UInt64 = 0
        for (index, node) in nodes.enumerated() {
            let weight = mix(node ^ mix(key))
            if best == nil || weight > bestWeight {
                best = index
                bestWeight = weight
            }
        }
        return best
    }

    /// A stable 64-bit hash of a node ID (FNV-1a, then mixed): the same on every node
    /// and every run, unlike Swift's seeded `Hasher`.
    public static func nodeHash(_ id: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return mix(hash)
    }

    /// SplitMix64's finaliser: every input bit moves every output bit.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
