import LWSTransport
import Foundation
@testable import Gateway
import Testing

/// zlib-stream without sockets: the server's deflater and the client's inflater.
@Suite struct ZlibStreamTests {
    let payloads: [[UInt8]] = [
        Array(#"{"op":10,"d":{"heartbeat_interval":41250},"s":null,"t":null}"#.utf8),
        Array(String(repeating: #"{"id":"175928847299117063","last_message_id":"0","mention_count":0},"#, count: 2_000).utf8),
        Array(#"{"op":0,"d":{"channel_id":"1","message_id":"2"},"s":3,"t":"MESSAGE_ACK"}"#.utf8),
    ]

    @Test(arguments: [ZlibStreamSettings(), ZlibStreamSettings(level: 1, windowBits: 15, memoryLevel: 8), ZlibStreamSettings(level: 9, windowBits: 9, memoryLevel: 1)])
    func everyPayloadEndsWithTheFlushMarkerAndInflatesOnOneStream(settings: ZlibStreamSettings) throws {
        let deflater = try ZlibStreamDeflater(settings)
        let inflater = try ZlibStreamInflater()
        for payload in payloads + payloads {
            let message = deflater.compress(payload)
            #expect(ZlibStreamInflater.endsPayload(message))
            #expect(try inflater.push(message) == payload)
        }
    }

    @Test func aPayloadSplitOverMessagesIsDeliveredWhole() throws {
        let deflater = try ZlibStreamDeflater(ZlibStreamSettings())
        let inflater = try ZlibStreamInflater()
        let message = deflater.compress(payloads[1])
        let cut = message.count / 2
        #expect(try inflater.push(Array(message[..<cut])) == nil)
        #expect(try inflater.push(Array(message[cut...])) == payloads[1])
        // The stream goes on after it.
        #expect(try inflater.push(deflater.compress(payloads[2])) == payloads[2])
    }

    @Test func bytesThatAreNotAZlibStreamAreAnError() throws {
        let inflater = try ZlibStreamInflater()
        #expect(throws: ZlibStreamError.self) { try inflater.push([1, 2, 3, 4, 0, 0, 0xFF, 0xFF]) }
        // A bomb: a payload past the bound is refused, not allocated.
        let small = try ZlibStreamInflater(maximumPayloadBytes: 10_000)
        let bomb = try ZlibStreamDeflater(ZlibStreamSettings()).compress([UInt8](repeating: 0x20, count: 1_000_000))
        #expect(throws: ZlibStreamError.self) { try small.push(bomb) }
    }

    @Test func connectOptionsComeFromTheQuery() throws {
        #expect(try GatewayConnectOptions(query: nil) == GatewayConnectOptions())
        #expect(try GatewayConnectOptions(query: "v=10&encoding=json&compress=zlib-stream").compression == .zlibStream)
        #expect(try GatewayConnectOptions(query: "v=10").compression == nil)
        #expect(throws: GatewayConnectOptions.Refusal.compression("zstd-stream")) { try GatewayConnectOptions(query: "compress=zstd-stream") }
        #expect(throws: GatewayConnectOptions.Refusal.encoding("etf")) { try GatewayConnectOptions(query: "encoding=etf") }
        let endpoint = try WebSocketEndpoint(url: "ws://127.0.0.1:9/gateway?v=10").addingQueryArgument("compress=zlib-stream")
        #expect(endpoint.path == "/gateway?v=10&compress=zlib-stream")
        #expect(endpoint.compression == .zlibStream)
    }

    @Test func settingsDocumentTheirMemory() {
        #expect(ZlibStreamSettings(level: 6, windowBits: 15, memoryLevel: 8).bytesPerStream == 262_144 + 6_144)
    }
}
