@testable import Gateway
import Testing

/// Frames for one connection, handed over by several threads, back in the order of `s`.
@Suite struct SequencedOutboxTests {
    func frame(_ sequence: Int) -> [UInt8] {
        ServerFrame.dispatch("MESSAGE_ACK", sequence: sequence, payload: Array(#"{"n":1}"#.utf8))
    }

    func sequences(_ frames: [[UInt8]]) -> [Int?] { frames.map(ServerFrame.sequence(of:)) }

    @Test func theSequenceIsReadBackFromADispatchAndNotFromOtherFrames() {
        #expect(ServerFrame.sequence(of: frame(1234)) == 1234)
        #expect(ServerFrame.sequence(of: ServerFrame.heartbeatAck()) == nil)
        #expect(ServerFrame.sequence(of: ServerFrame.hello(heartbeatIntervalMilliseconds: 5)) == nil)
        #expect(ServerFrame.sequence(of: []) == nil)
    }

    @Test func earlyFramesWaitForTheOnesBefore() {
        var outbox = SequencedOutbox()
        #expect(sequences(outbox.admit(frame(1))) == [1])
        #expect(outbox.admit(frame(3)).isEmpty)
        #expect(outbox.admit(frame(4)).isEmpty)
        #expect(sequences(outbox.admit(frame(2))) == [2, 3, 4])
        // Frames without a sequence go at once; a stale one is dropped.
        #expect(outbox.admit(ServerFrame.heartbeatAck()).count == 1)
        #expect(outbox.admit(frame(4)).isEmpty)
        #expect(sequences(outbox.admit(frame(5))) == [5])
    }

    @Test func theFirstDispatchSetsWhereTheConnectionStarts() {
        // A RESUME's replay starts wherever the client left off.
        var outbox = SequencedOutbox()
        #expect(sequences(outbox.admit(frame(41))) == [41])
        #expect(sequences(outbox.admit(frame(42))) == [42])
    }

    @Test func aFrameThatNeverComesIsGivenUpOnPastTheBound() {
        var outbox = SequencedOutbox()
        _ = outbox.admit(frame(1))
        var released: [[UInt8]] = []
        for sequence in 3...(SequencedOutbox.maximumEarly + 3) { released += outbox.admit(frame(sequence)) }
        #expect(sequences(released) == (3...(SequencedOutbox.maximumEarly + 3)).map { $0 })
        #expect(sequences(outbox.admit(frame(SequencedOutbox.maximumEarly + 4))) == [SequencedOutbox.maximumEarly + 4])
    }

    @Test func sharedDispatchesAreOrderedByTheirOwnSequenceAndStayShared() {
        let event = DispatchFrame.SharedEvent(type: "MESSAGE_CREATE", payload: Array(#"{"n":1}"#.utf8))
        var outbox = SequencedOutbox()
        #expect(outbox.admit(DispatchFrame(event, sequence: 1)).map(\.sequence) == [1])
        #expect(outbox.admit(DispatchFrame(event, sequence: 3)).isEmpty)
        #expect(outbox.earlyBytes == DispatchFrame(event, sequence: 3).count)
        let released = outbox.admit(DispatchFrame(event, sequence: 2))
        #expect(released.map(\.sequence) == [2, 3])
        #expect(released.map(\.bytes) == [2, 3].map { ServerFrame.dispatch("MESSAGE_CREATE", sequence: $0, payload: Array(#"{"n":1}"#.utf8)) })
        #expect(outbox.earlyBytes == 0)
    }
}

extension SequencedOutbox {
    /// For frames built whole, as most of these tests hand over.
    mutating func admit(_ frame: [UInt8]) -> [[UInt8]] {
        admit(DispatchFrame(whole: frame)).map(\.bytes)
    }
}
