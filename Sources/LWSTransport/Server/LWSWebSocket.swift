internal import CWebsockets

/// One server WebSocket on its service thread, as the transport keeps it: the message
/// being reassembled, the frames waiting for the socket to be writable, and the close
/// frame to write once they are out.
///
/// The handler keeps this object (``LWSServer/webSocket(_:)``) and sends through it:
/// no dictionary lookup by ID per message (about 1% of the gateway's CPU at 1,000
/// sessions and 3,000 events/s, `perf record --call-graph dwarf`). Use it on the
/// server's thread only; once the connection is gone, sends through it are dropped.
public final class LWSWebSocket {
    let wsi: OpaquePointer
    var incoming = IncomingMessage()
    var outgoing = OutgoingFrames()
    /// Set once the handler closed it: written after the frames queued before.
    var closing: (code: UInt16, reason: String)?
    /// The connection closed: `wsi` is no longer valid.
    var isGone = false

    init(wsi: OpaquePointer) {
        self.wsi = wsi
    }

    /// Sends a message (now, or once what waits before it is out; dropped once the
    /// connection is closing or gone).
    /// - Returns: the bytes queued on the connection after this one (for a bound on
    ///   clients that do not read), or nil when the connection is closing or gone.
    @discardableResult
    public func send(_ message: [UInt8]) -> Int? {
        guard !isGone, closing == nil else { return nil }
        outgoing.send(message, to: wsi)
        return outgoing.queuedBytes
    }

    /// The same for a message of `count` bytes that `write` puts into the buffer it is
    /// given: written in place in the socket's write buffer when it goes at once (no
    /// array built for it).
    @discardableResult
    public func send(count: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) -> Int? {
        guard !isGone, closing == nil else { return nil }
        outgoing.send(count: count, to: wsi, write)
        return outgoing.queuedBytes
    }

    /// The bytes queued, not yet written.
    public var queuedBytes: Int { outgoing.queuedBytes }

    /// One write per WRITEABLE callback.
    /// - Returns: -1 to close the connection, else 0.
    func writeNext() -> Int32 {
        outgoing.writeNext(to: wsi, closing: closing)
    }
}
