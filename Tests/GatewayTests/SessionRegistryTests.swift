import Foundation
import Gateway
import Snowflake
import Testing

@Suite struct SessionRegistryTests {
    func sequence(_ frame: [UInt8]) -> Int? {
        ((try? JSONSerialization.jsonObject(with: Data(frame))) as? [String: Any])?["s"] as? Int
    }

    @Test func resumeReplaysWhatTheClientMissed() throws {
        var registry = SessionRegistry(resumeWindowMilliseconds: 1000, historyLimit: 10)
        registry.create(sessionID: "s1", user: id(1), connection: 7)
        for number in 1...5 { _ = registry.dispatch("MESSAGE_ACK", ["n": number], to: "s1") }
        registry.detach("s1", now: 100)
        // Dispatched while disconnected: kept for the replay.
        _ = registry.dispatch("MESSAGE_ACK", ["n": 6], to: "s1")
        #expect(registry.connection(of: "s1") == nil)
        let frames = try registry.resume(sessionID: "s1", user: id(1), sequence: 3, connection: 8).get()
        #expect(frames.map(sequence) == [4, 5, 6])
        #expect(registry.connection(of: "s1") == 8)
    }

    @Test func resumeIsRefusedForAnotherUserAnUnknownSessionOrAfterTheWindow() {
        var registry = SessionRegistry(resumeWindowMilliseconds: 1000, historyLimit: 10)
        registry.create(sessionID: "s1", user: id(1), connection: 7)
        registry.detach("s1", now: 100)
        #expect(registry.resume(sessionID: "s1", user: id(2), sequence: 0, connection: 8) == .failure(.unknownSession))
        #expect(registry.resume(sessionID: "nope", user: id(1), sequence: 0, connection: 8) == .failure(.unknownSession))
        registry.expire(now: 1099)
        #expect(registry.sessions(of: id(1)) == ["s1"])
        registry.expire(now: 1100)
        #expect(registry.sessions(of: id(1)).isEmpty)
        #expect(registry.resume(sessionID: "s1", user: id(1), sequence: 0, connection: 8) == .failure(.unknownSession))
    }

    @Test func aSequenceAheadOrOlderThanTheHistoryIsInvalid() {
        var registry = SessionRegistry(resumeWindowMilliseconds: 1000, historyLimit: 3)
        registry.create(sessionID: "s1", user: id(1), connection: 7)
        for number in 1...6 { _ = registry.dispatch("E", ["n": number], to: "s1") }
        registry.detach("s1", now: 0)
        #expect(registry.resume(sessionID: "s1", user: id(1), sequence: 9, connection: 8) == .failure(.invalidSequence))
        // Only 4, 5, 6 are kept: a client at 2 missed 3, which is gone.
        #expect(registry.resume(sessionID: "s1", user: id(1), sequence: 2, connection: 8) == .failure(.invalidSequence))
        #expect((try? registry.resume(sessionID: "s1", user: id(1), sequence: 3, connection: 8).get())?.count == 3)
    }
}
