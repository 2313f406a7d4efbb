import LWSTransport

/// What the gateway adds to a WebSocket of the transport: the deflate stream of a
/// `?compress=zlib-stream` connection, and the reordering of dispatches by `s` when
/// several threads send to it. Its protocol state lives in ``GatewayCore``, its bytes
/// and its closing in the transport.
final class WebSocketConnection {
    /// The transport's socket, sent to directly (no lookup by ID per frame).
    private let socket: LWSWebSocket
    /// `?compress=zlib-stream`: every frame goes through this stream, as a binary message.
    private let deflater: ZlibStreamDeflater?
    /// With several service threads: dispatches back in the order of `s`.
    private var sequenced: SequencedOutbox?

    init(_ socket: LWSWebSocket, deflater: ZlibStreamDeflater? = nil, ordered: Bool = false) {
        self.socket = socket
        self.deflater = deflater
        sequenced = ordered ? SequencedOutbox() : nil
    }

    /// Hands `frame` to the transport: written in place into its buffer, or compressed
    /// as handed over (the stream's order is the order frames go out in); with several
    /// threads, once the frames before it in `s` have gone. The transport drops it once
    /// the connection closes.
    /// - Returns: the connection's backlog in bytes: queued in the transport, plus
    ///   held back here waiting for an earlier `s`.
    func send(_ frame: DispatchFrame) -> Int {
        // In place (`sequenced?.admit`): a copy of the outbox would copy its held frames.
        guard let released = sequenced?.admit(frame) else { return write(frame) ?? 0 }
        for ready in released { write(ready) }
        return socket.queuedBytes + (sequenced?.earlyBytes ?? 0)
    }

    /// - Returns: the bytes queued in the transport, nil once it is closing or gone.
    @discardableResult
    private func write(_ frame: DispatchFrame) -> Int? {
        if let deflater { return socket.send(deflater.compress(frame.bytes)) }
        return socket.send(count: frame.count) { frame.write(to: $0) }
    }
}
