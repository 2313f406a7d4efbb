import Gateway
import Snowflake
import Testing

@Suite struct MessageMentionsTests {
    let author = Snowflake(rawValue: 1)
    let members = [2, 3, 4, 1].map { Snowflake(rawValue: $0) }

    func mentions(_ content: String, members: [Snowflake]? = nil) -> MessageMentions {
        MessageMentions(content: content, members: members ?? self.members, author: author)
    }

    @Test func namedMembersInOrderOnceEach() {
        let found = mentions("hi <@3> and <@!2>, again <@3> <@2>")
        #expect(found.users == [Snowflake(rawValue: 3), Snowflake(rawValue: 2)])
        #expect(!found.everyone)
    }

    @Test func neverTheAuthorNorOutsiders() {
        #expect(mentions("<@1> <@99> <@4>").users == [Snowflake(rawValue: 4)])
    }

    @Test func everyoneIsEveryMemberButTheAuthor() {
        let found = mentions("hey @everyone <@3>")
        #expect(found.everyone)
        #expect(found.users == [2, 3, 4].map { Snowflake(rawValue: $0) })
        // Anywhere in the text, even inside something that looks like a mention.
        #expect(mentions("<@@everyone>").everyone)
        #expect(!mentions("@everyon e").everyone)
    }

    @Test func malformedMentionsCountForNothing() {
        #expect(mentions("<@> <@x3> <@3 <@-2> <@!> <@!!2> <@<@3>").users.isEmpty)
        // An unclosed one ends the scan.
        #expect(mentions("<@3").users.isEmpty)
        #expect(mentions("<@2> <@3").users == [Snowflake(rawValue: 2)])
        // Over 2^64: not a Snowflake.
        #expect(mentions("<@18446744073709551616>").users.isEmpty)
    }

    @Test func textAroundAndNonASCII() {
        #expect(mentions("é<@4>ü<@2>日本").users == [Snowflake(rawValue: 4), Snowflake(rawValue: 2)])
        #expect(mentions("").users.isEmpty)
    }

    @Test func largeChannelsToo() {
        let many = (1...1000).map { Snowflake(rawValue: UInt64($0)) }
        let content = (2...200).map { "<@\($0)>" }.joined(separator: " ")
        let found = mentions(content, members: many)
        #expect(found.users == (2...200).map { Snowflake(rawValue: UInt64($0)) })
    }
}
