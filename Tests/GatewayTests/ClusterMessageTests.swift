import Cluster
@testable import Gateway
import ReadStatesModule
import Snowflake
import Testing

/// What nodes say to each other: every kind survives encoding, and bytes that are not
/// a whole message of this version are refused (nil), never half-read.
@Suite struct ClusterMessageTests {
    static let messages: [ClusterMessage] = [
        .dispatch(type: "MESSAGE_CREATE", target: .channel(id(10)), message: id(99), payload: Array(#"{"id":"99"}"#.utf8)),
        .dispatch(type: "MESSAGE_ACK", target: .users([id(1), id(2)]), message: nil, payload: Array("{}".utf8)),
        .readStates(user: id(1)),
        .ack(user: id(1), items: [.init(channel: id(10), message: id(99)), .init(channel: id(11), message: id(7))], manual: true, mentionCount: 3),
        .mentions(users: [id(1), id(3)], channel: id(10), message: id(99)),
        .channel(ChatChannel(id: id(10), name: "général", members: [id(1), id(2)], lastMessageID: id(99))),
        .channel(ChatChannel(id: id(11), name: "empty", members: [])),
        .released(membership: 0xDEAD_BEEF_0000_0001),
        .forwarded(hops: 2, .mentions(users: [id(1)], channel: id(10), message: id(99))),
        .forwarded(hops: 1, .readStates(user: id(1))),
    ]

    @Test(arguments: messages)
    func everyKindRoundTrips(_ message: ClusterMessage) {
        #expect(ClusterMessage(decoding: message.encoded) == message)
    }

    @Test(arguments: messages)
    func truncatedOrPaddedBytesAreRefused(_ message: ClusterMessage) {
        let bytes = message.encoded
        for length in 0..<bytes.count { #expect(ClusterMessage(decoding: Array(bytes.prefix(length))) == nil, "\(length) of \(bytes.count)") }
        #expect(ClusterMessage(decoding: bytes + [0]) == nil)
    }

    @Test func aForwardedMessageIsNeverNested() {
        let twice = ClusterMessage.forwarded(hops: 1, .forwarded(hops: 1, .readStates(user: id(1))))
        #expect(ClusterMessage(decoding: twice.encoded) == nil)
    }

    @Test func unknownKindsAndHugeCountsAreRefused() {
        #expect(ClusterMessage(decoding: [0]) == nil)
        #expect(ClusterMessage(decoding: [200, 1, 2, 3]) == nil)
        // A member count far beyond the bytes that follow.
        var writer = ClusterWriter()
        writer.byte(4)  // mentions
        writer.integer(UInt64.max)
        #expect(ClusterMessage(decoding: writer.output) == nil)
    }

    @Test func statesRepliesCarryTheOwnersGenerationWhichChangedAndWhy() {
        let states = [
            ReadState(channelID: id(10), lastMessageID: id(99), mentionCount: 0, version: 7),
            ReadState(channelID: id(11), lastMessageID: id(5), mentionCount: 2, version: 3),
        ]
        let reply = ClusterMessage.StatesReply(generation: 42, states: states, updated: [true, false], failure: "the store is down")
        let decoded = ClusterMessage.StatesReply(decoding: reply.encoded)
        #expect(decoded == reply)
        #expect(decoded?.changes == [.updated(states[0]), .unchanged(states[1])])
        #expect(ClusterMessage.StatesReply(decoding: Array(reply.encoded.dropLast())) == nil)
        let plain = ClusterMessage.StatesReply(generation: 1, states: [], updated: [], failure: nil)
        #expect(ClusterMessage.StatesReply(decoding: plain.encoded) == plain)
    }
}
