internal import CWebsockets

/// Reassembles one WebSocket message from the chunks lws hands to RECEIVE callbacks
/// (4 KiB each by default). Shared by the server's and the client's connections.
struct IncomingMessage {
    enum Failure: Error, Equatable {
        case binary
        case tooLarge(limit: Int)
    }

    private var bytes: [UInt8] = []
    /// Whether the message last completed was binary.
    private(set) var wasBinary = false

    /// Adds a chunk of the message `wsi` is receiving.
    /// - Returns: the whole message when this chunk completes it, nil while more is
    ///   coming. Throws for a binary frame (unless `binary` allows them) or a message
    ///   over `limit` bytes (the partial message is dropped).
    mutating func append(_ chunk: UnsafeRawBufferPointer, from wsi: OpaquePointer, limit: Int, binary: Bool = false) throws(Failure) -> [UInt8]? {
        let isBinary = lws_frame_is_binary(wsi) != 0
        if isBinary && !binary {
            bytes = []
            throw .binary
        }
        guard bytes.count + chunk.count <= limit else {
            bytes = []
            throw .tooLarge(limit: limit)
        }
        bytes.append(contentsOf: chunk)
        guard lws_is_final_fragment(wsi) != 0, lws_remaining_packet_payload(wsi) == 0 else { return nil }
        defer { bytes = [] }
        wasBinary = isBinary
        return bytes
    }
}

/// A socket's outgoing frames: written at once when nothing waits before them, else
/// queued until the socket is writable, one per WRITEABLE callback.
struct OutgoingFrames {
    /// How long a close may wait to go out by default: a peer that stopped reading
    /// never lets lws's buffer drain, so the close frame would never be handed over and
    /// the connection (its queue, its session) would stay for good.
    static let closeDeadlineSeconds: Int32 = 30

    /// Bounds a close of `wsi` in time: lws drops the connection if its close frame has
    /// not started `seconds` from now (once it has, lws's own 5 s wait for the peer's
    /// close takes over).
    static func limitClose(of wsi: OpaquePointer, seconds: Int32 = closeDeadlineSeconds) {
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, seconds)
    }

    /// Binary messages (a zlib-stream connection) instead of text.
    var binary = false
    private var frames: [[UInt8]] = []
    private var head = 0
    private(set) var queuedBytes = 0
    /// lws may read the last frame's bytes after `lws_write` returns (permessage-deflate
    /// finishing later): kept until the next write.
    private var lastWritten: [UInt8] = []
    /// The largest write buffer a connection keeps between frames.
    private static let keptBufferBytes = 4096
    /// The close frame was handed to lws: it is sending it and then waits for the
    /// peer's close (discarding what the peer still sends, for up to 5 s).
    private var closeHandedOver = false

    /// A write failed: the next WRITEABLE callback closes the connection.
    private var failed = false

    var isEmpty: Bool { head == frames.count }

    /// Writes `frame` now if nothing waits before it (no frame queued here, nothing of
    /// an earlier write left in lws's buffer), else queues it for the next WRITEABLE
    /// callback. Writing at once spares two `epoll_ctl` calls (POLLOUT on, then off)
    /// and a round of the loop per frame (6% of the gateway's CPU at 1,000 sessions
    /// and 3,000 events/s). What lws does not send in that call (the socket took only
    /// part, or the frame is over the protocol's `tx_packet_size`) stays in lws's
    /// buffer, which lws drains when the socket is writable, before the frames queued
    /// here after it. Safe outside WRITEABLE because no extension (permessage-deflate)
    /// is negotiated: lws would otherwise interleave its own draining.
    mutating func send(_ frame: [UInt8], to wsi: OpaquePointer) {
        send(count: frame.count, to: wsi, whole: { frame }) { Self.copy(frame, into: $0) }
    }

    /// The same for a message of `count` bytes that `write` puts into the buffer it is
    /// given (exactly `count` bytes): written straight into the write buffer when it
    /// goes at once, so the caller builds no array for it; built into one only when it
    /// has to wait.
    mutating func send(count: Int, to wsi: OpaquePointer, _ write: (UnsafeMutableRawBufferPointer) -> Void) {
        let whole = {
            [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                write(UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
        }
        send(count: count, to: wsi, whole: whole, write)
    }

    /// Both sends: `write` fills the write buffer when the message goes at once,
    /// `whole` gives it as an array to queue when it has to wait.
    private mutating func send(
        count: Int, to wsi: OpaquePointer, whole: () -> [UInt8], _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        guard !failed else { return }
        if isEmpty && lws_partial_buffered(wsi) == 0 {
            if !self.write(count: count, to: wsi, write) {
                // lws marks the socket unusable and will not call WRITEABLE again: it
                // closes the connection on its next round instead.
                failed = true
                lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC)
            }
            return
        }
        let frame = whole()
        frames.append(frame)
        queuedBytes += frame.count
        lws_callback_on_writable(wsi)
    }

    /// Writes the oldest frame, if any.
    /// - Returns: false when lws reports the socket failed.
    private mutating func writeNext(to wsi: OpaquePointer) -> Bool {
        guard head < frames.count else { return true }
        let frame = frames[head]
        // Released now: a connection that never quite drains would otherwise keep
        // every frame it sent until the queue is empty.
        frames[head] = []
        head += 1
        queuedBytes -= frame.count
        if head == frames.count {
            frames.removeAll(keepingCapacity: true)
            head = 0
        }
        return write(frame, to: wsi)
    }

    /// One `lws_write` of one message.
    private mutating func write(_ frame: [UInt8], to wsi: OpaquePointer) -> Bool {
        write(count: frame.count, to: wsi) { Self.copy(frame, into: $0) }
    }

    private static func copy(_ frame: [UInt8], into buffer: UnsafeMutableRawBufferPointer) {
        frame.withUnsafeBytes { source in
            if let base = source.baseAddress { buffer.baseAddress!.copyMemory(from: base, byteCount: source.count) }
        }
    }

    /// One `lws_write` of a message of `count` bytes that `write` puts in place.
    private mutating func write(count: Int, to wsi: OpaquePointer, _ write: (UnsafeMutableRawBufferPointer) -> Void) -> Bool {
        // Into the last frame's storage: a fresh `LWS_PRE` array per frame was 4% of the
        // gateway's CPU at 1,000 sessions and 3,000 events/s (malloc, zero-fill and
        // copy; `perf record --call-graph dwarf`). Left uninitialised (lws writes the
        // header into the `LWS_PRE` bytes before the message), and grown in steps of
        // 256 bytes, so that a connection's buffer settles at its usual frame size. A
        // large buffer (a READY) is let go as soon as a small frame follows.
        let headroom = Int(CWebsockets_LWS_PRE())
        let needed = headroom + count
        if lastWritten.count < needed || (lastWritten.count > Self.keptBufferBytes && needed <= Self.keptBufferBytes) {
            let size = (needed + 255) & ~255
            lastWritten = [UInt8](unsafeUninitializedCapacity: size) { _, initialized in initialized = size }
        }
        let written = lastWritten.withUnsafeMutableBytes { storage in
            let message = UnsafeMutableRawBufferPointer(rebasing: storage[headroom..<needed])
            write(message)
            return lws_write(
                wsi, message.baseAddress!.assumingMemoryBound(to: UInt8.self), count, binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT
            )
        }
        return written >= 0
    }

    /// A WRITEABLE callback's work: the next frame, or, once none is left and a close
    /// was asked for, the close frame (handed to lws once: it then reads and discards
    /// until the peer's close frame, and closes the TCP connection after it).
    /// - Returns: the callback's result: -1 to close the connection, else 0.
    mutating func writeNext(to wsi: OpaquePointer, closing: (code: UInt16, reason: String)?) -> Int32 {
        if failed { return -1 }
        if !isEmpty {
            guard writeNext(to: wsi) else { return -1 }
            if !isEmpty || closing != nil { lws_callback_on_writable(wsi) }
            return 0
        }
        guard let closing else { return 0 }
        // lws calls WRITEABLE again after its close frame went out. A second -1 here
        // would make it drop the socket at once ("we tried the polite way"), before
        // the client's close: a client still sending then gets a reset and its kernel
        // discards the unread close frame (RFC 6455 7.1.1 wants the server to wait).
        if closeHandedOver { return 0 }
        closeHandedOver = true
        var bytes = Array(closing.reason.utf8.prefix(120))
        lws_close_reason(wsi, lws_close_status(rawValue: UInt32(closing.code)), &bytes, bytes.count)
        return -1
    }
}
