public import Snowflake

/// Read states by user and channel, the shape both the in-memory store and the
/// write-behind's pending map keep.
public typealias ReadStatesByUser = [Snowflake: [Snowflake: ReadState]]

extension Dictionary where Key == Snowflake, Value == ReadState {
    /// Stores `state` under its channel unless a state with an equal or higher version
    /// is there already: the one rule that keeps a late, older write from winning.
    /// - Returns: whether the channel was new here (the number of states grew).
    @discardableResult
    public mutating func keepNewer(_ state: ReadState) -> Bool {
        guard let held = self[state.channelID] else {
            self[state.channelID] = state
            return true
        }
        if held.version < state.version { self[state.channelID] = state }
        return false
    }
}

extension Dictionary where Key == Snowflake, Value == [Snowflake: ReadState] {
    @discardableResult
    public mutating func keepNewer(_ state: ReadState, of user: Snowflake) -> Bool {
        self[user, default: [:]].keepNewer(state)
    }
}
