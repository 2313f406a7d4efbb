internal import CWebsockets
import Snowflake

/// One gateway WebSocket on the service thread: its protocol state, the frame being
/// reassembled, and the frames waiting for the socket to be writable.
final class WebSocketConnection {
    let wsi: OpaquePointer
    var machine: SessionMachine
    /// The session (in ``SessionRegistry``) once READY or RESUMED went out.
    var sessionID: String?
    /// When IDENTIFY arrived, for the READY build-time histogram.
    var identifiedAt: ContinuousClock.Instant?
    private var incoming: [UInt8] = []
    private var outbox: [[UInt8]] = []
    private var outboxHead = 0
    private(set) var queuedBytes = 0
    /// Set once the session must close: sent after the frames queued before it.
    var closing: GatewayCloseCode?
    /// lws may read the last frame's bytes after `lws_write` returns: kept until the next.
    private var lastWritten: [UInt8] = []


    init(wsi: OpaquePointer, machine: SessionMachine) {
        self.wsi = wsi
        self.machine = machine
    }

    /// Adds a chunk of an incoming message.
    /// - Returns: the whole message when this chunk completes it; nil while more is
    ///   coming. Throws when the message is over the size limit or binary.
    func receive(_ chunk: UnsafeRawBufferPointer) throws(ClientPayload.DecodeError) -> [UInt8]? {
        if lws_frame_is_binary(wsi) != 0 { throw .malformed("text frames only") }
        guard incoming.count + chunk.count <= ClientPayload.maximumFrameBytes else {
            incoming = []
            throw .malformed("frame over \(ClientPayload.maximumFrameBytes) bytes")
        }
        incoming.append(contentsOf: chunk)
        guard lws_is_final_fragment(wsi) != 0, lws_remaining_packet_payload(wsi) == 0 else { return nil }
        defer { incoming = [] }
        return incoming
    }

    /// Queues a frame. - Returns: false when the backlog is over its limit.
    func enqueue(_ frame: [UInt8]) -> Bool {
        guard closing == nil else { return true }
        outbox.append(frame)
        queuedBytes += frame.count
        lws_callback_on_writable(wsi)
        return queuedBytes <= machine.configuration.sendBacklogLimitBytes
    }

    func close(_ code: GatewayCloseCode) {
        guard closing == nil else { return }
        closing = code
        lws_callback_on_writable(wsi)
    }

    /// One write per WRITEABLE callback.
    /// - Returns: -1 to close the connection, else 0.
    func writeNext() -> Int32 {
        if outboxHead < outbox.count {
            let frame = outbox[outboxHead]
            outboxHead += 1
            queuedBytes -= frame.count
            if outboxHead == outbox.count {
                outbox.removeAll(keepingCapacity: true)
                outboxHead = 0
            }
            let headroom = Int(CWebsockets_LWS_PRE())
            lastWritten = [UInt8](repeating: 0, count: headroom) + frame
            let written = lastWritten.withUnsafeMutableBufferPointer { storage in
                lws_write(wsi, storage.baseAddress! + headroom, frame.count, LWS_WRITE_TEXT)
            }
            guard written >= 0 else { return -1 }
            if outboxHead < outbox.count || closing != nil { lws_callback_on_writable(wsi) }
            return 0
        }
        if let closing {
            var reason = Array(closing.reason.utf8)
            lws_close_reason(wsi, lws_close_status(rawValue: UInt32(closing.rawValue)), &reason, reason.count)
            return -1
        }
        return 0
    }
}
