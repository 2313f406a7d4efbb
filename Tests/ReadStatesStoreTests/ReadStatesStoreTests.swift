import Foundation
import ReadStatesModule
import Snowflake
import Testing

/// The store contract and the write-behind path, against every store.
@Suite(.timeLimit(.minutes(3))) struct ReadStatesStoreTests {
    @Test(arguments: StoreKind.allCases)
    func roundTripAndAUserWithNone(kind: StoreKind) async throws {
        let (store, reopen) = try await kind.make()
        #expect(try await store.load(user: id(1)).isEmpty)
        let written = [state(10, message: 5, mentions: 2, version: 3), state(11, message: 7, version: 1)]
        try await store.write(written.map { UserReadState(userID: id(1), state: $0) })
        try await store.write([UserReadState(userID: id(2), state: state(10, message: 1, version: 1))])
        let loaded = try await store.load(user: id(1)).sorted { $0.channelID < $1.channelID }
        #expect(loaded == written)
        // Full 64-bit IDs survive the signed integer column.
        let big = ReadState(channelID: Snowflake(rawValue: .max), lastMessageID: Snowflake(rawValue: 1 << 63), mentionCount: 65_535, version: .max)
        try await store.write([UserReadState(userID: Snowflake(rawValue: .max - 1), state: big)])
        #expect(try await reopen().load(user: Snowflake(rawValue: .max - 1)) == [big])
    }

    @Test(arguments: StoreKind.allCases)
    func anOlderVersionNeverOverwritesANewerOne(kind: StoreKind) async throws {
        let (store, _) = try await kind.make()
        let newer = state(10, message: 9, version: 5)
        try await store.write([UserReadState(userID: id(1), state: newer)])
        try await store.write([UserReadState(userID: id(1), state: state(10, message: 4, mentions: 1, version: 4))])
        try await store.write([UserReadState(userID: id(1), state: state(10, message: 3, version: 5))])
        #expect(try await store.load(user: id(1)) == [newer])
        let newest = state(10, message: 2, mentions: 7, version: 6)
        try await store.write([UserReadState(userID: id(1), state: newest)])
        #expect(try await store.load(user: id(1)) == [newest])
    }

    @Test(arguments: StoreKind.allCases)
    func largeBatchesCrossStatementBoundaries(kind: StoreKind) async throws {
        let (store, _) = try await kind.make()
        let rows: [UserReadState] = (0..<13_001).map { (index: Int) -> UserReadState in
            let number = UInt64(index)
            let row: ReadState = state(number + 100, message: number + 1, version: 1)
            return UserReadState(userID: id(number % 7 + 1), state: row)
        }
        try await store.write(rows)
        var total = 0
        for user in 1...7 { total += try await store.load(user: id(UInt64(user))).count }
        #expect(total == 13_001)
    }

    @Test(arguments: StoreKind.allCases)
    func stateWrittenBehindSurvivesARestart(kind: StoreKind) async throws {
        let (store, reopen) = try await kind.make()
        let first = WriteBehind(store: store, delay: 30)
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 2), persistence: first)
        let acked = try await engine.ack(user: id(1), channel: id(10), messageID: id(8))
        let mentioned = try await engine.mention(user: id(1), channel: id(11), messageID: id(9))
        try await first.flush(from: engine, everything: true)

        let restarted = ReadStates(configuration: .init(capacity: 100, shards: 2), persistence: WriteBehind(store: try await reopen()))
        let states = try await restarted.readStates(of: id(1)).sorted { $0.channelID < $1.channelID }
        #expect(states == [acked.state, mentioned.state])
        let next = try await restarted.ack(user: id(1), channel: id(11), messageID: id(12))
        #expect(next.state.version > mentioned.state.version)
    }
}

/// The serving history (``ServingHistory``): the generation stays across runs that end
/// cleanly and moves on after one that did not.
@Suite(.timeLimit(.minutes(3))) struct ServingHistoryTests {
    @Test(arguments: StoreKind.allCases)
    func aCleanRunKeepsTheGenerationAndAnUncleanOneMovesIt(kind: StoreKind) async throws {
        let (store, reopen) = try await kind.make()
        let history = try #require(store as? any ServingHistory)
        let first = try await history.beginServing()
        #expect((1..<ServingGeneration.limit).contains(first))
        try await history.endServing()
        // A restart after a clean end: the same history.
        let reopened = try #require(try await reopen() as? any ServingHistory)
        #expect(try await reopened.beginServing() == first)
        // That run never ends (a crash): the next one is a new generation.
        let afterCrash = try #require(try await reopen() as? any ServingHistory)
        let second = try await afterCrash.beginServing()
        #expect(second == ServingGeneration.next(after: first))
        try await afterCrash.endServing()
        #expect(try await afterCrash.beginServing() == second)
    }

    @Test func generationsStayExactInJavaScript() {
        #expect(ServingGeneration.next(after: ServingGeneration.limit - 1) == 1)
        #expect(ServingGeneration.begin(stored: nil, wasServing: false) < ServingGeneration.limit)
        #expect(ServingGeneration.begin(stored: 5, wasServing: false) == 5)
        #expect(ServingGeneration.begin(stored: 5, wasServing: true) == 6)
        #expect(UInt64(ServingGeneration.limit - 1) << 32 | UInt64(UInt32.max) < 1 << 53)
    }
}
