/// The LRU list of users, threaded through the user records by index.
extension ShardTable {
    mutating func linkAtHead(_ record: UInt32) {
        users[Int(record)].lruPrevious = Self.none
        users[Int(record)].lruNext = lruHead
        if lruHead != Self.none { users[Int(lruHead)].lruPrevious = record }
        lruHead = record
        if lruTail == Self.none { lruTail = record }
    }

    mutating func unlink(_ record: UInt32) {
        let previous = users[Int(record)].lruPrevious
        let next = users[Int(record)].lruNext
        if previous != Self.none { users[Int(previous)].lruNext = next } else { lruHead = next }
        if next != Self.none { users[Int(next)].lruPrevious = previous } else { lruTail = previous }
    }

    /// Marks a user most recently used. Already at the head: nothing to write, which
    /// spares the cache lines of two neighbours on a user's burst of operations.
    @inline(__always)
    mutating func touch(_ record: UInt32) {
        guard lruHead != record else { return }
        unlink(record)
        linkAtHead(record)
    }
}
