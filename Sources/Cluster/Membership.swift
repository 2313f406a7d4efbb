/// The live nodes as one node last heard them from Redis: who owns what follows from it
/// alone (``Rendezvous``).
public struct Membership: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var id: String
        /// Where clients reach it (`ws://HOST:PORT/gateway`).
        public var url: String
        let hash: UInt64

        public init(id: String, url: String) {
            self.id = id
            self.url = url
            hash = Rendezvous.nodeHash(id)
        }
    }

    /// Sorted by ID.
    public private(set) var members: [Member]
    private var hashes: [UInt64]

    public init(_ members: [Member]) {
        self.members = members.sorted { $0.id < $1.id }
        hashes = self.members.map(\.hash)
    }

    public var ids: [String] { members.map(\.id) }

    public func contains(_ id: String) -> Bool { members.contains { $0.id == id } }

    /// The member that owns `key` (a user ID), nil with no members.
    public func owner(of key: UInt64) -> Member? {
        Rendezvous.owner(of: key, among: hashes).map { members[$0] }
    }
}
