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
    private var incoming = IncomingMessage()
    private var outgoing = OutgoingFrames()
    /// Set once the session must close: sent after the frames queued before it.
    var closing: GatewayCloseCode?

    init(wsi: OpaquePointer, machine: SessionMachine) {
        self.wsi = wsi
        self.machine = machine
    }

    /// Adds a chunk of an incoming message.
    /// - Returns: the whole message when this chunk completes it; nil while more is
    ///   coming. Throws when the message is over the size limit or binary.
    func receive(_ chunk: UnsafeRawBufferPointer) throws(ClientPayload.DecodeError) -> [UInt8]? {
        do {
            return try incoming.append(chunk, from: wsi, limit: ClientPayload.maximumFrameBytes)
        } catch {
            switch error {
            case .binary: throw .malformed("text frames only")
            case .tooLarge(let limit): throw .malformed("frame over \(limit) bytes")
            }
        }
    }

    /// Queues a frame. - Returns: false when the backlog is over its limit.
    func enqueue(_ frame: [UInt8]) -> Bool {
        guard closing == nil else { return true }
        outgoing.append(frame)
        lws_callback_on_writable(wsi)
        return outgoing.queuedBytes <= machine.configuration.sendBacklogLimitBytes
    }

    func close(_ code: GatewayCloseCode) {
        guard closing == nil else { return }
        closing = code
        lws_callback_on_writable(wsi)
    }

    /// One write per WRITEABLE callback.
    /// - Returns: -1 to close the connection, else 0.
    func writeNext() -> Int32 {
        outgoing.writeNext(to: wsi, closing: closing.map { ($0.rawValue, $0.reason) })
    }
}
