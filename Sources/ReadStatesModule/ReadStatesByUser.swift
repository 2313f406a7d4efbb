public import Snowflake

/// Read states by user and channel, the shape both the in-memory store and the
/// write-behind's pending map keep.
typealias ReadStatesByUser = [Snowflake: [Snowflake: ReadState]]

extension Dictionary where Key == Snowflake, Value == ReadState {
    /// Stores `state` under its channel unless a state with an equal or higher version
    /// is there already: the one rule that keeps a late, older write from winning.
    mutating func keepNewer(_ state: ReadState) {
        if let held = self[state.channelID], held.version >= state.version { return }
        self[state.channelID] = state
    }
}

extension Dictionary where Key == Snowflake, Value == [Snowflake: ReadState] {
    mutating func keepNewer(_ state: ReadState, of user: Snowflake) {
        self[user, default: [:]].keepNewer(state)
    }
}
