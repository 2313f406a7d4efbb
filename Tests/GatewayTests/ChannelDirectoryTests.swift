import Gateway
import ReadStatesModule
import Snowflake
import Testing

@Suite struct ChannelDirectoryTests {
    @Test func aMembersChannelsStaySortedAsChannelsComeAndChange() {
        let directory = ChannelDirectory()
        for channel in [30, 10, 20, 40] {
            directory.add(ChatChannel(id: id(UInt64(channel)), name: "c\(channel)", members: [id(1), id(2)]))
        }
        #expect(directory.summaries(of: id(1)).map(\.id) == [id(10), id(20), id(30), id(40)])
        // Channel 20 now without user 1, renamed; channel 25 new.
        directory.add(ChatChannel(id: id(20), name: "renamed", members: [id(2)]))
        directory.add(ChatChannel(id: id(25), name: "c25", members: [id(1)]))
        #expect(directory.summaries(of: id(1)).map(\.id) == [id(10), id(25), id(30), id(40)])
        #expect(directory.summaries(of: id(2)).map(\.name) == ["c10", "renamed", "c30", "c40"])
        #expect(directory.summaries(of: id(3)).isEmpty)
        directory.recordMessage(id(99), in: id(30))
        #expect(directory.summaries(of: id(1)).first { $0.id == id(30) }?.lastMessageId == id(99))
        #expect(directory.summaries(of: id(1)).map(\.id) == [id(10), id(25), id(30), id(40)])
    }
}
