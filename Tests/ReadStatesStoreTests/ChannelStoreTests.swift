import ReadStatesModule
import Snowflake
import Testing

/// Channels and memberships, against every store.
@Suite(.timeLimit(.minutes(3))) struct ChannelStoreTests {
    @Test(arguments: StoreKind.allCases)
    func channelsRoundTripAndKeepTheNewestLastMessage(kind: StoreKind) async throws {
        let (opened, reopen) = try await kind.make()
        let store = try #require(opened as? any ChannelStore)
        #expect(try await store.loadChannels().isEmpty)
        let general = ChatChannel(id: id(100), name: "general", members: [id(1), id(2), id(3)])
        let random = ChatChannel(id: id(101), name: "random", members: [id(2)], lastMessageID: id(50))
        try await store.saveChannel(general)
        try await store.saveChannel(random)
        try await store.recordLastMessages([id(100): id(40), id(101): id(30), id(999): id(1)])
        try await store.recordLastMessages([id(100): id(35)])
        // Renamed, one member gone: members are replaced, the newest message kept.
        try await store.saveChannel(ChatChannel(id: id(100), name: "general-2", members: [id(1), id(3)]))

        let reopened = try #require(try await reopen() as? any ChannelStore)
        let loaded = try await reopened.loadChannels().sorted { $0.id < $1.id }
        #expect(loaded.map(\.name) == ["general-2", "random"])
        #expect(loaded.map { Set($0.members) } == [[id(1), id(3)], [id(2)]])
        #expect(loaded.map(\.lastMessageID) == [id(40), id(50)])
    }
}
