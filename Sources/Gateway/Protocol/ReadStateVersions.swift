import ReadStatesModule

/// Read-state versions as clients see them: the store's generation (see
/// `ServingHistory`) in the high 32 bits, the engine's version in the low 32.
///
/// A client keeps the highest version it has seen (READY's `read_state.version`,
/// MESSAGE_ACK's `version`) and sends it back in IDENTIFY's
/// `client_state.read_state_version`. If it comes from this generation and is not ahead
/// of the user's current version, the client holds everything up to it, and a partial
/// READY of the newer entries brings it up to date. Otherwise (another generation: the
/// server lost unwritten changes, or another deployment; or ahead: the server lost
/// state) it gets the full set.
public struct ReadStateVersions: Sendable, Equatable {
    public var generation: UInt32

    public init(generation: UInt32) {
        self.generation = generation
    }

    /// For stores that keep no history (each instance is a history of its own).
    public static func random() -> ReadStateVersions {
        ReadStateVersions(generation: ServingGeneration.random())
    }

    /// An engine version as clients see it.
    public func client(_ version: UInt32) -> UInt64 {
        UInt64(generation) << 32 | UInt64(version)
    }

    /// The engine version after which a client that has seen `clientVersion` needs the
    /// changes, or nil when it needs the full set.
    /// - Parameter current: the user's highest version now.
    public func changes(since clientVersion: UInt64, current: UInt32) -> UInt32? {
        guard clientVersion >> 32 == UInt64(generation) else { return nil }
        let seen = UInt32(truncatingIfNeeded: clientVersion)
        return seen <= current ? seen : nil
    }
}
