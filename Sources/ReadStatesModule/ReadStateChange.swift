/// What an ack or a mention did to a read state.
public enum ReadStateChange: Sendable, Hashable {
    /// The state changed; this is its new value (with its new version).
    case updated(ReadState)
    /// Nothing changed (an older or equal ack, a mention the user already read past,
    /// a saturated count); this is the state as it stands.
    case unchanged(ReadState)

    public var state: ReadState {
        switch self {
        case .updated(let state), .unchanged(let state): state
        }
    }

    public var isUpdated: Bool {
        if case .updated = self { true } else { false }
    }
}
