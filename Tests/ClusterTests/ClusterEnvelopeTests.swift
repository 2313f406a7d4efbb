@testable import Cluster
import Testing

@Suite struct ClusterEnvelopeTests {
    @Test func envelopesRoundTripAndTheirSenderIsReadInPlace() {
        let envelope = ClusterEnvelope(kind: .request, sender: "node-1", requestID: 0x0102_0304_0506_0708, body: Array("hello".utf8))
        let bytes = envelope.encoded
        #expect(ClusterEnvelope(decoding: bytes) == envelope)
        bytes.withUnsafeBytes { raw in
            #expect(ClusterEnvelope.isSent(by: Array("node-1".utf8), raw))
            #expect(!ClusterEnvelope.isSent(by: Array("node-2".utf8), raw))
            #expect(!ClusterEnvelope.isSent(by: Array("node-10".utf8), raw))
        }
        // Too short, an unknown kind, a sender longer than the bytes: not an envelope.
        #expect(ClusterEnvelope(decoding: Array(bytes.prefix(9))) == nil)
        #expect(ClusterEnvelope(decoding: [9] + bytes.dropFirst()) == nil)
        #expect(ClusterEnvelope(decoding: [0, 200, 1, 2, 3, 4, 5, 6, 7, 8, 9]) == nil)
        [UInt8](repeating: 0, count: 3).withUnsafeBytes { #expect(!ClusterEnvelope.isSent(by: Array("a".utf8), $0)) }
    }
}
