/// The user index: linear probing over `UInt32` entries (0 = empty, else record + 1),
/// with backward-shift deletion so no tombstones pile up and nothing ever rehashes.
extension ShardTable {
    /// A strong 64-bit mix (the finalizer of SplitMix64): user IDs are Snowflakes whose
    /// low bits are mostly zero, so they must be mixed before they pick a bucket.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    @inline(__always)
    func homeBucket(of user: UInt64) -> Int {
        // Shards are chosen from the high bits of `mix(user)`; rotating first keeps the
        // bucket independent of the shard. `multipliedFullWidth` maps the hash onto
        // `0..<bucketCount` without a division (Lemire's fast range).
        let mixed = Self.mix(user ^ seed)
        let hash = mixed << 32 | mixed >> 32
        return Int(hash.multipliedFullWidth(by: UInt64(bucketCount)).high)
    }

    /// The record of a cached user, or nil.
    @inline(__always)
    func find(_ user: UInt64) -> UInt32? {
        var bucket = homeBucket(of: user)
        while true {
            let entry = index[bucket]
            if entry == 0 { return nil }
            if users[Int(entry - 1)].user == user { return entry - 1 }
            bucket += 1
            if bucket == bucketCount { bucket = 0 }
        }
    }

    /// Adds a record for a user known not to be in the index.
    mutating func insertIntoIndex(user: UInt64, record: UInt32) {
        var bucket = homeBucket(of: user)
        while index[bucket] != 0 {
            bucket += 1
            if bucket == bucketCount { bucket = 0 }
        }
        index[bucket] = record + 1
    }

    /// Removes a user from the index and shifts later entries of the probe run back
    /// into the hole, so every lookup still stops at the first empty bucket.
    mutating func removeFromIndex(user: UInt64) {
        var hole = homeBucket(of: user)
        while users[Int(index[hole] - 1)].user != user {
            hole += 1
            if hole == bucketCount { hole = 0 }
        }
        var probe = hole
        while true {
            probe += 1
            if probe == bucketCount { probe = 0 }
            let entry = index[probe]
            if entry == 0 { break }
            let home = homeBucket(of: users[Int(entry - 1)].user)
            // The entry may move into the hole only if its home is not in (hole, probe],
            // cyclically: otherwise a lookup from its home would no longer reach it.
            let homeInRange = hole <= probe ? (home > hole && home <= probe) : (home > hole || home <= probe)
            if !homeInRange {
                index[hole] = entry
                hole = probe
            }
        }
        index[hole] = 0
    }
}
