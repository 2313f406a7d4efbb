import Foundation
import Gateway
import Testing

@Suite struct DispatchFrameTests {
    let payload = Array(#"{"id":"12","content":"hi \"there\"","mentions":[]}"#.utf8)

    @Test(arguments: [0, 1, 9, 10, 99, 100, 12_345, 9_999_999, Int(Int32.max)])
    func aSharedEventsFrameIsTheFrameBuiltWhole(sequence: Int) {
        let event = DispatchFrame.SharedEvent(type: "MESSAGE_CREATE", payload: payload)
        let frame = DispatchFrame(event, sequence: sequence)
        let whole = ServerFrame.dispatch("MESSAGE_CREATE", sequence: sequence, payload: payload)
        #expect(frame.bytes == whole)
        #expect(frame.count == whole.count)
        #expect(ServerFrame.sequence(of: frame.bytes) == sequence)
    }

    @Test func aNameThatNeedsEscapingIsEscapedAsTheWriterDoes() throws {
        let type = "ODD\"NAME\\\n"
        let frame = DispatchFrame(DispatchFrame.SharedEvent(type: type, payload: Array("null".utf8)), sequence: 7)
        #expect(frame.bytes == ServerFrame.dispatch(type, sequence: 7, payload: Array("null".utf8)))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(frame.bytes)) as? [String: Any])
        #expect(object["t"] as? String == type)
        #expect(object["s"] as? Int == 7)
    }

    @Test func writeFillsExactlyCountBytesOfALargerBuffer() {
        let frame = DispatchFrame(DispatchFrame.SharedEvent(type: "MESSAGE_ACK", payload: payload), sequence: 42)
        var buffer = [UInt8](repeating: 0xEE, count: frame.count + 8)
        buffer.withUnsafeMutableBytes { frame.write(to: $0) }
        #expect(Array(buffer.prefix(frame.count)) == frame.bytes)
        #expect(buffer.suffix(8).allSatisfy { $0 == 0xEE })
    }

    @Test func aWholeFrameIsKeptAsItIs() {
        let whole = ServerFrame.dispatch("READY", sequence: 1, payload: Array("{}".utf8))
        let frame = DispatchFrame(whole: whole)
        #expect(frame.bytes == whole)
        #expect(frame.count == whole.count)
        #expect(frame == DispatchFrame(DispatchFrame.SharedEvent(type: "READY", payload: Array("{}".utf8)), sequence: 1))
    }
}
