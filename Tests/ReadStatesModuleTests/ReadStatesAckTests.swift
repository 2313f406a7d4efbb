import ReadStatesModule
import Snowflake
import Testing

@Suite struct ReadStatesAckTests {
    let engine = ReadStates(configuration: .init(capacity: 1000, shards: 4), persistence: InMemoryReadStatesPersistence())

    @Test func aNewerAckMovesTheMarkerAndClearsMentions() async throws {
        _ = try await engine.mention(user: id(1), channel: id(10), messageID: id(100))
        let change = try await engine.ack(user: id(1), channel: id(10), messageID: id(101))
        #expect(change.isUpdated)
        #expect(change.state.lastMessageID == id(101))
        #expect(change.state.mentionCount == 0)
    }

    @Test func anOlderOrEqualAckChangesNothingAndSaysSo() async throws {
        let first = try await engine.ack(user: id(1), channel: id(10), messageID: id(200))
        let equal = try await engine.ack(user: id(1), channel: id(10), messageID: id(200))
        let older = try await engine.ack(user: id(1), channel: id(10), messageID: id(150))
        #expect(equal == .unchanged(first.state))
        #expect(older == .unchanged(first.state))
        #expect(try await engine.readStates(of: id(1)) == [first.state])
    }

    @Test(arguments: [[id(5), id(9), id(7)], [id(9), id(7), id(5)], [id(7), id(5), id(9)]])
    func acksFromSeveralDevicesInAnyOrderEndAtTheNewest(order: [Snowflake]) async throws {
        for message in order {
            _ = try await engine.ack(user: id(2), channel: id(20), messageID: message)
        }
        let states = try await engine.readStates(of: id(2))
        #expect(states.map(\.lastMessageID) == [id(9)])
    }

    @Test func aManualAckMovesBackwardsAndSetsTheCount() async throws {
        _ = try await engine.ack(user: id(3), channel: id(30), messageID: id(500))
        let unread = try await engine.ack(user: id(3), channel: id(30), messageID: id(400), manual: true, mentionCount: 3)
        #expect(unread.isUpdated)
        #expect(unread.state.lastMessageID == id(400))
        #expect(unread.state.mentionCount == 3)
        // A later plain ack moves it forward again.
        let read = try await engine.ack(user: id(3), channel: id(30), messageID: id(450))
        #expect(read.state.lastMessageID == id(450))
        #expect(read.state.mentionCount == 0)
    }

    @Test func aManualAckThatSetsTheSameValuesIsUnchanged() async throws {
        _ = try await engine.ack(user: id(3), channel: id(31), messageID: id(500), manual: true, mentionCount: 2)
        let again = try await engine.ack(user: id(3), channel: id(31), messageID: id(500), manual: true, mentionCount: 2)
        #expect(!again.isUpdated)
    }

    @Test func aPlainAckOfMessageZeroOnAnUnknownChannelCreatesNothing() async throws {
        let change = try await engine.ack(user: id(4), channel: id(40), messageID: .zero)
        #expect(!change.isUpdated)
        #expect(try await engine.readStates(of: id(4)).isEmpty)
    }

    @Test func versionsGrowWithEveryChangeAndOnlyThen() async throws {
        let a = try await engine.ack(user: id(5), channel: id(50), messageID: id(1))
        let b = try await engine.ack(user: id(5), channel: id(51), messageID: id(1))
        let c = try await engine.ack(user: id(5), channel: id(50), messageID: id(2))
        let unchanged = try await engine.ack(user: id(5), channel: id(50), messageID: id(2))
        let d = try await engine.mention(user: id(5), channel: id(51), messageID: id(3))
        #expect(a.state.version < b.state.version)
        #expect(b.state.version < c.state.version)
        #expect(unchanged.state.version == c.state.version)
        #expect(c.state.version < d.state.version)
    }

    @Test func countsBeyondSixteenBitsAreClamped() async throws {
        let change = try await engine.ack(user: id(6), channel: id(60), messageID: id(1), manual: true, mentionCount: 1 << 20)
        #expect(change.state.mentionCount == ReadState.maximumMentionCount)
        let negative = try await engine.ack(user: id(6), channel: id(61), messageID: id(1), manual: true, mentionCount: -5)
        #expect(negative.state.mentionCount == 0)
    }
}
