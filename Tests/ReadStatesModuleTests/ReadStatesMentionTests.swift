import ReadStatesModule
import Snowflake
import Testing

@Suite struct ReadStatesMentionTests {
    let engine = ReadStates(configuration: .init(capacity: 1000, shards: 4), persistence: InMemoryReadStatesPersistence())

    @Test func mentionsCountUpForUnreadMessages() async throws {
        for message in 1...3 {
            _ = try await engine.mention(user: id(1), channel: id(10), messageID: id(UInt64(message)))
        }
        let states = try await engine.readStates(of: id(1))
        #expect(states.map(\.mentionCount) == [3])
        #expect(states.map(\.lastMessageID) == [.zero])
    }

    @Test func aUserWhoReadPastTheMessageIsLeftAlone() async throws {
        _ = try await engine.ack(user: id(2), channel: id(20), messageID: id(100))
        let older = try await engine.mention(user: id(2), channel: id(20), messageID: id(90))
        let same = try await engine.mention(user: id(2), channel: id(20), messageID: id(100))
        #expect(!older.isUpdated && !same.isUpdated)
        let newer = try await engine.mention(user: id(2), channel: id(20), messageID: id(101))
        #expect(newer.state.mentionCount == 1)
    }

    @Test func theCountSaturates() async throws {
        let max = ReadState.maximumMentionCount
        _ = try await engine.ack(user: id(3), channel: id(30), messageID: id(1), manual: true, mentionCount: max - 1)
        let last = try await engine.mention(user: id(3), channel: id(30), messageID: id(2))
        #expect(last.isUpdated && last.state.mentionCount == max)
        let over = try await engine.mention(user: id(3), channel: id(30), messageID: id(3))
        #expect(!over.isUpdated && over.state.mentionCount == max)
    }

    @Test func mentioningSeveralUsersReportsOnlyThoseChanged() async throws {
        _ = try await engine.ack(user: id(5), channel: id(50), messageID: id(200))
        let changed = try await engine.mention(users: [id(4), id(5), id(6)], channel: id(50), messageID: id(150))
        #expect(changed.map(\.user) == [id(4), id(6)])
        #expect(changed.map(\.state.mentionCount) == [1, 1])
    }

    @Test func inlineFormsAnswerNilForUsersNotCached() throws {
        #expect(try engine.mentionIfCached(user: id(7), channel: id(70), messageID: id(1)) == nil)
        #expect(try engine.ackIfCached(user: id(7), channel: id(70), messageID: id(1)) == nil)
        #expect(engine.readStatesIfCached(of: id(7)) == nil)
        try engine.insertLoaded(user: id(7), states: [])
        #expect(try engine.mentionIfCached(user: id(7), channel: id(70), messageID: id(1))?.isUpdated == true)
        #expect(engine.readStatesIfCached(of: id(7))?.count == 1)
    }
}
