public import ReadStatesModule
public import Snowflake
import Synchronization

/// Every channel and who is in it, in memory (loaded from the ``ChannelStore`` at
/// start), with each channel's newest message. Read on every message and ack, so
/// lookups are dictionary reads under a short lock; new last-message IDs are kept
/// dirty until ``takeDirtyLastMessages()`` hands them to the store.
public final class ChannelDirectory: Sendable {
    private struct State {
        var channels: [Snowflake: ChatChannel] = [:]
        var byMember: [Snowflake: Set<Snowflake>] = [:]
        /// What READY says of each channel, in one array: a user's channels are
        /// positions in it, so READY reads 1,000 channels without 1,000 hash lookups
        /// (a tenth of its build time in `perf`).
        var summaries: [Summary] = []
        var summarySlot: [Snowflake: Int] = [:]
        /// The same memberships as positions in `summaries`, kept sorted by channel ID
        /// as channels are added: READY lists a user's channels by ID, and sorting 1,000
        /// channels (with their member lists) on every READY took 170 us of the service
        /// thread.
        var sortedByMember: [Snowflake: [Int]] = [:]
        var dirty: [Snowflake: Snowflake] = [:]
    }

    /// What READY says of a channel: kept in READY's own type, so that building READY
    /// copies no channel list (the conversion was 8% of it in `perf`).
    public typealias Summary = ReadyPayload.Channel

    private let state = Mutex(State())

    public init(_ channels: [ChatChannel] = []) {
        for channel in channels { add(channel) }
    }

    /// Adds a channel or replaces its name and members.
    public func add(_ channel: ChatChannel) {
        state.withLock { state in
            if let old = state.channels[channel.id], let oldSlot = state.summarySlot[channel.id] {
                for member in old.members {
                    state.byMember[member]?.remove(channel.id)
                    state.sortedByMember[member]?.removeAll { $0 == oldSlot }
                }
            }
            var stored = channel
            stored.members = Array(Set(channel.members)).sorted()
            state.channels[channel.id] = stored
            let summary = Summary(id: channel.id, name: channel.name, lastMessageId: stored.lastMessageID)
            let slot: Int
            if let existing = state.summarySlot[channel.id] {
                slot = existing
                state.summaries[slot] = summary
            } else {
                slot = state.summaries.count
                state.summaries.append(summary)
                state.summarySlot[channel.id] = slot
            }
            for member in stored.members {
                state.byMember[member, default: []].insert(channel.id)
                var slots = state.sortedByMember[member] ?? []
                let position = slots.partitioningIndex(where: { state.summaries[$0].id >= channel.id })
                slots.insert(slot, at: position)
                state.sortedByMember[member] = slots
            }
        }
    }

    public func channel(_ id: Snowflake) -> ChatChannel? {
        state.withLock { $0.channels[id] }
    }

    /// Why a user may not write to a channel.
    public enum Refusal: Error, Equatable {
        case unknownChannel, notMember
    }

    /// The channel's members, if `user` is one of them: one lock and no copy of the
    /// channel for every message sent (``channel(_:)`` then ``isMember(_:of:)`` took
    /// two locks and copied its name and member list).
    public func members(of channel: Snowflake, ifMember user: Snowflake) -> Result<[Snowflake], Refusal> {
        state.withLock { state in
            guard let index = state.channels.index(forKey: channel) else { return .failure(.unknownChannel) }
            guard state.byMember[user]?.contains(channel) ?? false else { return .failure(.notMember) }
            return .success(state.channels.values[index].members)
        }
    }

    public func isMember(_ user: Snowflake, of channel: Snowflake) -> Bool {
        state.withLock { $0.byMember[user]?.contains(channel) ?? false }
    }

    /// The user's channels as READY lists them, by ID.
    public func summaries(of user: Snowflake) -> [Summary] {
        state.withLock { state in
            guard let slots = state.sortedByMember[user] else { return [] }
            return slots.map { state.summaries[$0] }
        }
    }

    /// Records a new message as the channel's newest.
    public func recordMessage(_ messageID: Snowflake, in channel: Snowflake) {
        state.withLock { state in
            // One lookup, in place: `channels[channel]` copied the channel (its member
            // list retained) for every message.
            guard let index = state.channels.index(forKey: channel) else { return }
            if state.channels.values[index].lastMessageID.map({ $0 < messageID }) ?? true {
                state.channels.values[index].lastMessageID = messageID
                if let slot = state.summarySlot[channel] { state.summaries[slot].lastMessageId = messageID }
                state.dirty[channel] = messageID
            }
        }
    }

    /// New last-message IDs since the previous call, for ``ChannelStore/recordLastMessages(_:)``.
    public func takeDirtyLastMessages() -> [Snowflake: Snowflake] {
        state.withLock { state in
            defer { state.dirty = [:] }
            return state.dirty
        }
    }

    public var count: Int { state.withLock { $0.channels.count } }
}

extension Array {
    /// The first index whose element satisfies `belongs` (the array is partitioned by
    /// it: false first, then true); a binary search.
    fileprivate func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
