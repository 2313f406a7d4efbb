import Cluster
import Testing

@Suite struct RendezvousTests {
    @Test func aJoiningNodeTakesOnlyKeysItNowWinsAndALeavingOneMovesOnlyItsOwn() {
        let three = Membership([.init(id: "a", url: "ws://a"), .init(id: "b", url: "ws://b"), .init(id: "c", url: "ws://c")])
        let four = Membership(three.members + [.init(id: "d", url: "ws://d")])
        var owned: [String: Int] = [:]
        for key in UInt64(0)..<30_000 {
            let user = key &* 0x9E37_79B9 &+ 80_351_110_224_678_912
            let before = three.owner(of: user)!.id
            let after = four.owner(of: user)!.id
            // A key moves only to the newcomer.
            #expect(before == after || after == "d")
            owned[before, default: 0] += 1
            // Without "b", only b's keys move.
            let withoutB = Membership(three.members.filter { $0.id != "b" }).owner(of: user)!.id
            if before != "b" { #expect(withoutB == before) }
        }
        // Spread: each of three nodes holds roughly a third (within 10% of 10,000).
        for id in ["a", "b", "c"] { #expect((9_000...11_000).contains(owned[id] ?? 0), "\(id): \(owned[id] ?? 0)") }
    }

    @Test func everyNodeComputesTheSameOwnerWhateverTheOrderItListsMembers() {
        let one = Membership([.init(id: "n1", url: "x"), .init(id: "n2", url: "y"), .init(id: "n3", url: "z")])
        let other = Membership([.init(id: "n3", url: "z"), .init(id: "n1", url: "x"), .init(id: "n2", url: "y")])
        for user in UInt64(1)...1_000 { #expect(one.owner(of: user) == other.owner(of: user)) }
        // `Membership` sorts its members, so the above holds by construction; the
        // hashing itself must not depend on the order either.
        let hashes = ["n1", "n2", "n3"].map(Rendezvous.nodeHash)
        let reordered = [hashes[2], hashes[0], hashes[1]]
        for user in UInt64(1)...1_000 {
            #expect(hashes[Rendezvous.owner(of: user, among: hashes)!] == reordered[Rendezvous.owner(of: user, among: reordered)!])
        }
        #expect(Membership([]).owner(of: 1) == nil)
        // Fixed values: every node, of every run and release, must hash alike (a seeded
        // hash would pass a comparison within one process and fail across nodes).
        #expect(Rendezvous.nodeHash("n1") == 0x5bad_d04f_0495_99a9)
        #expect(one.owner(of: 42)?.id == "n3" && one.owner(of: 80_351_110_224_678_912)?.id == "n2")
        #expect(Rendezvous.nodeHash("n1") != Rendezvous.nodeHash("n2"))
    }

    @Test(arguments: [
        ("redis://127.0.0.1:6380/2", RedisURL(host: "127.0.0.1", port: 6380, database: 2)),
        ("redis://cache.internal", RedisURL(host: "cache.internal", port: 6379, database: 0)),
        ("redis://h:7000/", RedisURL(host: "h", port: 7000, database: 0)),
        ("redis://[::1]:6381/3", RedisURL(host: "::1", port: 6381, database: 3)),
    ])
    func redisURLsParse(_ text: String, _ expected: RedisURL) throws {
        #expect(try RedisURL(parsing: text) == expected)
    }

    @Test(arguments: ["http://h:1", "redis://", "redis://h:0", "redis://h:70000", "redis://h/16", "redis://h/x", "redis://u:p@h"])
    func badRedisURLsAreRefused(_ text: String) {
        #expect(throws: ClusterError.badRedisURL(text)) { try RedisURL(parsing: text) }
    }
}
