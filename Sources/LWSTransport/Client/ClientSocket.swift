internal import CWebsockets

/// One client WebSocket on the service thread.
final class ClientSocket {
    /// Set when lws hands the connection back (`pwsi`), before any callback needs it.
    var wsi: OpaquePointer?
    var isOpen = false
    var incoming = IncomingMessage()
    /// The server's binary messages go through this (a gateway's zlib-stream).
    var decoder: (any MessageDecoder)?
    var outgoing = OutgoingFrames()
    /// A close we asked for: sent after the frames queued before it.
    var closing: (code: UInt16, reason: String)?
    /// We closed it because the server sent what this client does not take (binary
    /// messages without a decoder, oversized ones): reported as a dropped connection,
    /// so that its owner reconnects.
    var closedForCause = false
    /// The server's close frame, reported when the socket is gone.
    var peerClose: (code: UInt16, reason: String)?

    /// One write per WRITEABLE callback.
    /// - Returns: -1 to close the connection, else 0.
    func writeNext() -> Int32 {
        guard let wsi else { return 0 }
        return outgoing.writeNext(to: wsi, closing: closing)
    }
}
