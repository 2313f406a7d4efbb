import Foundation
import Gateway
import Snowflake
import Testing

@Suite struct SessionRegistryTests {
    func sequence(_ frame: [UInt8]) -> Int? {
        ((try? JSONSerialization.jsonObject(with: Data(frame))) as? [String: Any])?["s"] as? Int
    }

    @Test func resumeReplaysWhatTheClientMissed() throws {
        var registry = SessionRegistry(resumeWindowMilliseconds: 1000, limits: .init(dispatchesPerSession: 10))
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
        var registry = SessionRegistry(resumeWindowMilliseconds: 1000, limits: .init(dispatchesPerSession: 10))
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

    @Test func aSequenceAheadIsInvalidAndOneOlderThanTheHistoryIdentifiesAgain() {
        var registry = SessionRegistry(resumeWindowMilliseconds: 1000, limits: .init(dispatchesPerSession: 3))
        registry.create(sessionID: "s1", user: id(1), connection: 7)
        for number in 1...6 { _ = registry.dispatch("E", ["n": number], to: "s1") }
        registry.detach("s1", now: 0)
        #expect(registry.resume(sessionID: "s1", user: id(1), sequence: 9, connection: 8) == .failure(.invalidSequence))
        #expect(registry.resume(sessionID: "s2", user: id(1), sequence: 3, connection: 8) == .failure(.unknownSession))
        // Only 4, 5, 6 are kept: a client at 3 gets them all.
        #expect((try? registry.resume(sessionID: "s1", user: id(1), sequence: 3, connection: 8).get())?.count == 3)
        registry.detach("s1", now: 0)
        // A client at 2 missed 3, which is gone: INVALID_SESSION, and the session with it.
        #expect(registry.resume(sessionID: "s1", user: id(1), sequence: 2, connection: 9) == .failure(.unknownSession))
        #expect(registry.sessions(of: id(1)).isEmpty)
        #expect(registry.historyBytes == 0)
    }

    @Test func aSessionDetachedAgainWaitsItsWholeWindowFromTheLastDrop() throws {
        var registry = SessionRegistry(resumeWindowMilliseconds: 1000)
        registry.create(sessionID: "s1", user: id(1), connection: 7)
        registry.create(sessionID: "s2", user: id(2), connection: 8)
        registry.detach("s1", now: 0)
        _ = try registry.resume(sessionID: "s1", user: id(1), sequence: 0, connection: 9).get()
        registry.detach("s2", now: 200)
        registry.detach("s1", now: 500)
        registry.expire(now: 1100)
        #expect(registry.sessions(of: id(1)) == ["s1"], "dropped again at 500: kept until 1500")
        #expect(registry.sessions(of: id(2)) == ["s2"])
        registry.expire(now: 1200)
        #expect(registry.sessions(of: id(2)).isEmpty)
        registry.expire(now: 1500)
        #expect(registry.sessions(of: id(1)).isEmpty)
    }

    @Test func eachSessionKeepsAtMostItsBytesAndAlwaysTheNewestDispatch() throws {
        var registry = SessionRegistry(limits: .init(bytesPerSession: 300, dispatchesPerSession: 1000, totalBytes: 1 << 20))
        registry.create(sessionID: "s1", user: id(1), connection: 7)
        var sizes: [Int] = []
        for number in 1...40 {
            let frame = registry.dispatch("E", ["text": String(repeating: "x", count: number)], to: "s1")
            sizes.append(try #require(frame).count)
        }
        // Kept: the newest frames whose sizes add up to at most 300 bytes.
        var kept = 0, bytes = 0
        for size in sizes.reversed() {
            guard bytes + size <= 300 else { break }
            bytes += size
            kept += 1
        }
        #expect(registry.historyBytes == bytes)
        registry.detach("s1", now: 0)
        #expect(try registry.resume(sessionID: "s1", user: id(1), sequence: 40 - kept, connection: 8).get().count == kept)
        // A dispatch larger than the bound on its own is still kept (it alone).
        _ = registry.dispatch("E", ["text": String(repeating: "y", count: 1000)], to: "s1")
        registry.detach("s1", now: 0)
        #expect(try registry.resume(sessionID: "s1", user: id(1), sequence: 40, connection: 9).get().count == 1)
    }

    @Test func pastTheTotalTheSessionsWaitingLongestAreForgottenFirst() throws {
        let frame = ServerFrame.dispatch("E", sequence: 1, payload: ServerFrame.payload(["text": String(repeating: "z", count: 100)])).count
        // Room for about ten dispatches in all.
        var registry = SessionRegistry(limits: .init(bytesPerSession: 10 * frame, dispatchesPerSession: 1000, totalBytes: 10 * frame + 5))
        for (index, session) in ["old", "newer", "live"].enumerated() {
            registry.create(sessionID: session, user: id(UInt64(index + 1)), connection: index)
            for _ in 0..<3 { _ = registry.dispatch("E", ["text": String(repeating: "z", count: 100)], to: session) }
        }
        registry.detach("old", now: 10)
        registry.detach("newer", now: 20)
        // Four more for the live session: over the total by two frames' worth.
        for _ in 0..<4 { _ = registry.dispatch("E", ["text": String(repeating: "z", count: 100)], to: "live") }
        #expect(registry.historyBytes <= 10 * frame + 5)
        #expect(registry.sessions(of: id(1)).isEmpty, "the session waiting longest goes first")
        #expect(registry.sessions(of: id(2)) == ["newer"])
        #expect(registry.resume(sessionID: "old", user: id(1), sequence: 3, connection: 5) == .failure(.unknownSession))
        #expect(try registry.resume(sessionID: "newer", user: id(2), sequence: 0, connection: 6).get().count == 3)
        // With nobody left waiting, the session dispatched to keeps only its newest.
        for _ in 0..<5 { _ = registry.dispatch("E", ["text": String(repeating: "z", count: 100)], to: "live") }
        #expect(registry.historyBytes <= 10 * frame + 5)
        #expect(registry.count == 2)
    }

    @Test func aClosingConnectionGetsNoMoreDispatchesButTheSessionKeepsThemForItsResume() throws {
        var registry = SessionRegistry(resumeWindowMilliseconds: 1000)
        registry.create(sessionID: "s1", user: id(1), connection: 7)
        registry.create(sessionID: "s2", user: id(1), connection: 8)
        _ = registry.dispatch("E", ["n": 1], to: "s1")
        // Another connection's close leaves the session alone.
        registry.closing("s1", connection: 99)
        #expect(registry.dispatchAttached("E", writing: EncodedJSON(Array("2".utf8)), to: "s1")?.connection == 7)
        registry.closing("s1", connection: 7)
        #expect(registry.connection(of: "s1") == 7, "still attached until it is gone")
        var delivered: [Int?] = []
        registry.dispatch(DispatchFrame.SharedEvent(type: "E", payload: Array("3".utf8)), toUser: id(1)) { connection, _ in
            delivered.append(connection)
        }
        #expect(delivered == [nil, 8], "kept for s1, sent to s2")
        registry.detach("s1", now: 10)
        let replayed = try registry.resume(sessionID: "s1", user: id(1), sequence: 1, connection: 9).get()
        #expect(replayed.map(sequence) == [2, 3])
        #expect(registry.dispatchAttached("E", writing: EncodedJSON(Array("4".utf8)), to: "s1")?.connection == 9)
    }

    @Test func slotsOfEndedSessionsAreReusedWithoutMixingSessions() throws {
        var registry = SessionRegistry(resumeWindowMilliseconds: 1000)
        registry.create(sessionID: "a", user: id(1), connection: 1)
        registry.create(sessionID: "b", user: id(2), connection: 2)
        _ = registry.dispatch("E", ["n": 1], to: "a")
        registry.remove("a")
        registry.create(sessionID: "c", user: id(3), connection: 3)
        #expect(registry.sessions(of: id(1)).isEmpty)
        #expect(registry.sessions(of: id(3)) == ["c"])
        #expect(registry.connection(of: "a") == nil)
        #expect(registry.connection(of: "c") == 3)
        let dispatched = registry.dispatch("E", ["n": 1], to: "c")
        let first = try #require(dispatched)
        #expect(sequence(first) == 1, "a new session starts its own sequence")
        #expect(registry.count == 2)
        #expect(registry.historyBytes == first.count, "the ended session's bytes are gone")
    }

    @Test func makingRoomDuringAUsersDispatchForgetsItsOtherWaitingSessionSafely() {
        let event = DispatchFrame.SharedEvent(type: "E", payload: Array(String(repeating: "z", count: 100).utf8))
        let frame = DispatchFrame(event, sequence: 1).count
        // Room for one frame and a half in all.
        var registry = SessionRegistry(limits: .init(bytesPerSession: 10 * frame, dispatchesPerSession: 1000, totalBytes: frame * 3 / 2))
        registry.create(sessionID: "live", user: id(1), connection: 1)
        registry.create(sessionID: "waiting", user: id(1), connection: 2)
        registry.dispatch(event, toUser: id(1)) { _, _ in }
        registry.detach("waiting", now: 10)
        var delivered: [Int?] = []
        // The live session's frame goes over the total: the waiting one is forgotten
        // before the loop reaches it.
        registry.dispatch(event, toUser: id(1)) { connection, _ in delivered.append(connection) }
        #expect(delivered == [1])
        #expect(registry.sessions(of: id(1)) == ["live"])
        #expect(registry.historyBytes <= frame * 3 / 2)
    }

    @Test func aResumeNamingAnotherUsersSessionLeavesThatSessionsConnectionAlone() {
        let sessions = SharedSessions(shards: 1)
        _ = sessions.create(sessionID: "s1", user: id(1), connection: 7, first: "READY", writing: EncodedJSON(Array("{}".utf8)))
        let resumed = sessions.resume(sessionID: "s1", user: id(2), sequence: 0, connection: 8, now: 10)
        #expect(resumed.previous == nil)
        #expect(resumed.frames == .failure(.unknownSession))
        #expect(sessions.connection(of: "s1", user: id(1)) == 7, "still attached to its own connection")
    }
}
