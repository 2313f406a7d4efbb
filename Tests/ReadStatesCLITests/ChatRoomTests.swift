import Foundation
@testable import Gateway
@testable import ReadStatesModule
@testable import readstates
import Snowflake
import Testing

/// The chat client's model without sockets or a terminal.
struct ChatRoomTests {
    let me = Snowflake(rawValue: 80_351_110_224_678_912)
    let other = Snowflake(rawValue: 80_351_110_224_678_913)
    let general = Snowflake(rawValue: 175_928_847_299_117_063)
    let random = Snowflake(rawValue: 175_928_847_299_117_064)

    func room(generalLast: UInt64? = 500, readUpTo: UInt64? = 400, mentions: Int = 2) -> ChatRoom {
        var room = ChatRoom()
        var states: [ReadState] = []
        if let readUpTo {
            states.append(ReadState(channelID: general, lastMessageID: Snowflake(rawValue: readUpTo), mentionCount: mentions, version: 3))
        }
        _ = room.ready(
            ReadyPayload(
                v: 10, sessionId: "s", resumeGatewayUrl: "ws://x/gateway", user: .init(id: me),
                channels: [
                    .init(id: general, name: "general", lastMessageId: generalLast.map { Snowflake(rawValue: $0) }),
                    .init(id: random, name: "random", lastMessageId: nil),
                ],
                readState: ReadStateList(states, versions: .init(generation: 1))
            )
        )
        return room
    }

    func lines(_ outputs: [ChatRoom.Output]) -> [String] {
        outputs.compactMap { if case .line(let text) = $0 { text } else { nil } }
    }

    func message(_ id: UInt64, in channel: Snowflake, from author: Snowflake, mentioning: [Snowflake] = [], everyone: Bool = false) -> MessageCreate {
        MessageCreate(
            id: Snowflake(rawValue: id), channelId: channel, author: .init(id: author), content: "m\(id)",
            mentions: mentioning.map { .init(id: $0) }, mentionEveryone: everyone, nonce: nil
        )
    }

    @Test func aPartialREADYChangesOnlyItsEntriesAndAFullOneReplacesAll() {
        var room = room(generalLast: 500, readUpTo: 400, mentions: 2)
        let channels: [ReadyPayload.Channel] = [
            .init(id: general, name: "general", lastMessageId: Snowflake(rawValue: 500)),
            .init(id: random, name: "random", lastMessageId: Snowflake(rawValue: 700)),
        ]
        let versions = ReadStateVersions(generation: 1)
        let changed = ReadState(channelID: random, lastMessageID: Snowflake(rawValue: 700), mentionCount: 0, version: 9)
        let unchanged = ReadState(channelID: general, lastMessageID: Snowflake(rawValue: 400), mentionCount: 2, version: 3)
        let ready = { (list: ReadStateList) in
            ReadyPayload(v: 10, sessionId: "s2", resumeGatewayUrl: "ws://x/gateway", user: .init(id: me), channels: channels, readState: list)
        }
        let partial = ReadStateList([unchanged, changed], versions: versions, since: versions.client(3))
        #expect(partial.partial && partial.entries.map(\.id) == [random])
        let shown = lines(room.ready(ready(partial)))
        #expect(shown.first?.hasSuffix("1 read state changed") == true)
        #expect(room.channels.map(\.readUpTo) == [Snowflake(rawValue: 400), Snowflake(rawValue: 700)])
        #expect(room.channels.map(\.mentions) == [2, 0])
        // A full READY without general's state: general has none any more.
        _ = room.ready(ready(ReadStateList([changed], versions: versions)))
        #expect(room.channels.map(\.readUpTo) == [nil, Snowflake(rawValue: 700)])
        #expect(room.channels.map(\.mentions) == [0, 0])
    }

    @Test func theSidebarShowsUnreadMarkersAndMentions() {
        let room = room()
        #expect(lines(room.sidebar()) == ["channels (* unread, @N mentions):", "   #general * @2", "   #random"])
        #expect(room.badgeLine() == "badges: #general * @2 | #random")
        // Read up to the newest message: no marker.
        #expect(self.room(readUpTo: 500, mentions: 0).badgeLine() == "badges: #general | #random")
        // No read state at all but messages: unread.
        #expect(self.room(readUpTo: nil).badgeLine() == "badges: #general * | #random")
    }

    @Test func messagesElsewhereRaiseBadgesAndTheOpenChannelIsReadAsItArrives() {
        var room = room(readUpTo: 500, mentions: 0)
        #expect(lines(room.messageCreated(message(600, in: general, from: other))) == ["badges: #general * | #random"])
        #expect(lines(room.messageCreated(message(601, in: general, from: other, mentioning: [me]))) == ["badges: #general * @1 | #random"])
        #expect(lines(room.messageCreated(message(602, in: general, from: other, everyone: true))) == ["badges: #general * @2 | #random"])
        // The author's own @everyone does not count for the author.
        #expect(lines(room.messageCreated(message(603, in: general, from: me, everyone: true))).isEmpty)

        // Joining shows what arrived and acks the newest message.
        let joined = room.input("/join general")
        #expect(lines(joined).first == "-- #general (\(general)) --")
        #expect(joined.contains(.send(.ack(channelID: general, messageID: Snowflake(rawValue: 603), manual: false, mentionCount: 0))))
        let acked = room.messageAcked(
            MessageAck(.updated(ReadState(channelID: general, lastMessageID: Snowflake(rawValue: 603), mentionCount: 0, version: 9)), manual: false, versions: .init(generation: 1))
        )
        #expect(lines(acked) == ["badges: #general | #random"])

        let arriving = room.messageCreated(message(700, in: general, from: other))
        #expect(lines(arriving) == ["[#general] \(other): m700"])
        #expect(arriving.contains(.send(.ack(channelID: general, messageID: Snowflake(rawValue: 700), manual: false, mentionCount: 0))))
    }

    @Test func typedLinesBecomePayloads() {
        var room = room()
        #expect(lines(room.input("hello")) == ["open a channel first: /join NAME (see /channels)"])
        _ = room.input("/join #general")
        #expect(room.input("hi @\(other) and <@\(me)> @everyone") == [.send(.sendMessage(channelID: general, content: "hi <@\(other)> and <@\(me)> @everyone", nonce: "c1"))])
        #expect(room.input("/unread") == [.send(.ack(channelID: general, messageID: Snowflake(rawValue: 499), manual: true, mentionCount: 0))])
        #expect(lines(room.input("/join nowhere")) == ["no channel nowhere (see /channels)"])
        #expect(room.input("/quit") == [.quit])
        #expect(lines(room.input("/what")) == ["unknown command /what (try /help)"])
        #expect(room.input("   ").isEmpty)
        _ = room.input("/join random")
        #expect(lines(room.input("/ack")) == ["#random is already read"])
        #expect(lines(room.input("/unread")) == ["#random has no messages"])
    }

    @Test func shortMentionsExpandOnlyForSnowflakes() {
        #expect(ChatRoom.expandMentions("hi @80351110224678913!") == "hi <@80351110224678913>!")
        #expect(ChatRoom.expandMentions("mail me@home @12") == "mail me@home @12")
        #expect(ChatRoom.expandMentions("<@80351110224678913> stays") == "<@80351110224678913> stays")
    }
}

/// The load generator reads the server's hot frames without a JSON decoder.
struct FrameScannerTests {
    @Test func readsTheFieldsOfRealServerFrames() {
        let created = MessageCreate(
            id: Snowflake(rawValue: 1_576_310_285_247_971_328), channelId: Snowflake(rawValue: 175_928_847_299_117_063),
            author: .init(id: Snowflake(rawValue: 80_351_110_224_678_912)), content: "load 7 <@80351110224678913>",
            mentions: [.init(id: Snowflake(rawValue: 80_351_110_224_678_913))], mentionEveryone: false, nonce: "n123456"
        )
        let frame = FrameScanner(bytes: ServerFrame.dispatch("MESSAGE_CREATE", sequence: 42, created))
        #expect(frame.opcode == 0)
        #expect(frame.eventName == "MESSAGE_CREATE")
        #expect(frame.integer(after: #""s":"#) == 42)
        #expect(frame.snowflake(after: #""id":""#) == 1_576_310_285_247_971_328)
        #expect(frame.snowflake(after: #""author":{"id":""#) == 80_351_110_224_678_912)
        #expect(frame.integer(after: #""nonce":""#) == 123_456)
        #expect(frame.snowflake(after: #""missing":""#) == nil)
        let hello = FrameScanner(bytes: ServerFrame.hello(heartbeatIntervalMilliseconds: 41_250))
        #expect(hello.opcode == 10)
        #expect(hello.eventName == nil)
    }
}
