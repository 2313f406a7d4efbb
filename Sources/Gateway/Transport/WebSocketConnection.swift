internal import CWebsockets

/// One gateway WebSocket on the service thread, as the transport sees it: the frame
/// being reassembled, the frames waiting for the socket to be writable, and the close
/// frame to write once they are out. Its protocol state lives in ``GatewayCore``.
final class WebSocketConnection {
    let wsi: OpaquePointer
    private let sendBacklogLimitBytes: Int
    private var incoming = IncomingMessage()
    private var outgoing = OutgoingFrames()
    /// Set once the core closed the connection: written after the frames queued before.
    private var closing: GatewayCloseCode?
    /// `?compress=zlib-stream`: every frame goes through this stream, as a binary message.
    private let deflater: ZlibStreamDeflater?
    /// With several service threads: dispatches back in the order of `s`.
    private var sequenced: SequencedOutbox?

    init(wsi: OpaquePointer, sendBacklogLimitBytes: Int, deflater: ZlibStreamDeflater? = nil, ordered: Bool = false) {
        self.wsi = wsi
        self.sendBacklogLimitBytes = sendBacklogLimitBytes
        self.deflater = deflater
        outgoing.binary = deflater != nil
        sequenced = ordered ? SequencedOutbox() : nil
    }

    /// Adds a chunk of an incoming message.
    /// - Returns: the whole message when this chunk completes it; nil while more is
    ///   coming. Throws for a binary frame or one over the size limit.
    func receive(_ chunk: UnsafeRawBufferPointer) throws(IncomingMessage.Failure) -> [UInt8]? {
        try incoming.append(chunk, from: wsi, limit: ClientPayload.maximumFrameBytes)
    }

    /// Queues a frame (nothing once closing). - Returns: false when the backlog is over
    /// its limit.
    func enqueue(_ frame: [UInt8]) -> Bool {
        guard closing == nil else { return true }
        guard sequenced != nil else { return queue(frame) }
        var fits = true
        for ready in sequenced!.admit(frame) { fits = queue(ready) && fits }
        return fits && outgoing.queuedBytes + sequenced!.earlyBytes <= sendBacklogLimitBytes
    }

    private func queue(_ frame: [UInt8]) -> Bool {
        // Compressed as queued: the stream's order is the order frames go out in.
        outgoing.append(deflater?.compress(frame) ?? frame)
        lws_callback_on_writable(wsi)
        return outgoing.queuedBytes <= sendBacklogLimitBytes
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
