/// The LRU list of users, threaded through the user records by index.
extension ShardTable {
    /// Puts a user at the head, stamped with the current epoch; every arrival at the
    /// head (a move or a new user) counts towards the epoch's quarter.
    mutating func linkAtHead(_ record: UInt32) {
        users[Int(record)].epoch = epoch
        movesInEpoch += 1
        if movesInEpoch >= max(userCount / 4, 1) {
            movesInEpoch = 0
            epoch = epoch == .max ? 1 : epoch + 1
        }
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

    /// Marks a user most recently used. A user at the head, or already moved there in
    /// the current epoch (so within the most recent quarter), stays where it is.
    @inline(__always)
    mutating func touch(_ record: UInt32) {
        guard lruHead != record, users[Int(record)].epoch != epoch else { return }
        unlink(record)
        linkAtHead(record)
    }
}
