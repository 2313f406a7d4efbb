import LWSTransport

/// What the gateway adds to a WebSocket of the transport: the deflate stream of a
/// `?compress=zlib-stream` connection, the reordering of dispatches by `s` when
/// several threads send to it, and whether the core closed it. Its protocol state
/// lives in ``GatewayCore``; its bytes in the transport.
final class WebSocketConnection {
    /// Set once the core closed the connection: nothing more is sent.
    var closing = false
    /// `?compress=zlib-stream`: every frame goes through this stream, as a binary message.
    private let deflater: ZlibStreamDeflater?
    /// With several service threads: dispatches back in the order of `s`.
    private var sequenced: SequencedOutbox?

    init(deflater: ZlibStreamDeflater? = nil, ordered: Bool = false) {
        self.deflater = deflater
        sequenced = ordered ? SequencedOutbox() : nil
    }

    /// Hands `frame` to the transport: compressed as handed over (the stream's order
    /// is the order frames go out in), and, with several threads, once the frames
    /// before it in `s` have gone.
    /// - Returns: the connection's backlog in bytes: queued in the transport, plus
    ///   held back here waiting for an earlier `s`.
    func send(_ frame: [UInt8], as id: Int, through server: LWSServer) -> Int {
        guard !closing else { return 0 }
        guard sequenced != nil else { return server.send(deflater?.compress(frame) ?? frame, to: id) ?? 0 }
        var queued: Int?
        for ready in sequenced!.admit(frame) {
            queued = server.send(deflater?.compress(ready) ?? ready, to: id)
        }
        let held = sequenced!.earlyBytes
        return (queued ?? (held > 0 ? server.queuedBytes(id) : 0)) + held
    }
}
