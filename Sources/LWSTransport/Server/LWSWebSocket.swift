/// One server WebSocket on its service thread, as the transport keeps it: the message
/// being reassembled, the frames waiting for the socket to be writable, and the close
/// frame to write once they are out.
final class LWSWebSocket {
    let wsi: OpaquePointer
    var incoming = IncomingMessage()
    var outgoing = OutgoingFrames()
    /// Set once the handler closed it: written after the frames queued before.
    var closing: (code: UInt16, reason: String)?

    init(wsi: OpaquePointer) {
        self.wsi = wsi
    }

    /// One write per WRITEABLE callback.
    /// - Returns: -1 to close the connection, else 0.
    func writeNext() -> Int32 {
        outgoing.writeNext(to: wsi, closing: closing)
    }
}
