internal import CZlib

/// The client's side of zlib-stream: one inflate context for the connection's life.
/// Messages are buffered until one ends with the sync-flush marker `00 00 ff ff`
/// (Discord's rule: a payload may span several messages), then inflated into the
/// payload's JSON.
public final class ZlibStreamInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private var pending: [UInt8] = []
    /// Largest payload inflated (a bound on what a broken or hostile server can make
    /// us allocate).
    private let maximumPayloadBytes: Int

    public init(maximumPayloadBytes: Int = 64 << 20) throws(ZlibStreamError) {
        self.maximumPayloadBytes = maximumPayloadBytes
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = CZlib_inflateInit(stream)
        guard status == Z_OK else {
            stream.deallocate()
            throw ZlibStreamError(code: status, operation: "inflateInit")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Whether `bytes` ends a payload (the sync-flush marker).
    public static func endsPayload(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[bytes.count - 4] == 0 && bytes[bytes.count - 3] == 0
            && bytes[bytes.count - 2] == 0xFF && bytes[bytes.count - 1] == 0xFF
    }

    /// Adds a received binary message. - Returns: the payload once a message completed
    /// it, nil while more is coming.
    public func push(_ message: [UInt8]) throws(ZlibStreamError) -> [UInt8]? {
        pending += message
        guard pending.count <= maximumPayloadBytes else {
            pending = []
            throw ZlibStreamError(code: Z_BUF_ERROR, operation: "inflate (payload over \(maximumPayloadBytes) bytes)")
        }
        guard Self.endsPayload(pending) else { return nil }
        defer { pending = [] }
        return try inflatePending()
    }

    private func inflatePending() throws(ZlibStreamError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: max(256, pending.count * 4))
        var produced = 0
        var failure: Int32?
        pending.withUnsafeBufferPointer { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            while failure == nil {
                if produced == output.count {
                    guard output.count < maximumPayloadBytes else {
                        failure = Z_BUF_ERROR
                        break
                    }
                    output += [UInt8](repeating: 0, count: output.count)
                }
                let room = output.count - produced
                let status = output.withUnsafeMutableBufferPointer { buffer in
                    stream.pointee.next_out = buffer.baseAddress! + produced
                    stream.pointee.avail_out = uInt(room)
                    return inflate(stream, Z_SYNC_FLUSH)
                }
                produced += room - Int(stream.pointee.avail_out)
                let outputFull = stream.pointee.avail_out == 0
                switch status {
                case Z_OK where !outputFull && stream.pointee.avail_in == 0, Z_STREAM_END:
                    return
                case Z_BUF_ERROR where stream.pointee.avail_in == 0 && !outputFull:
                    return  // everything was out already (the output had filled exactly)
                case Z_OK, Z_BUF_ERROR where outputFull:
                    continue  // more output room, then go on
                default:
                    // A data error, or no progress with room on both sides.
                    failure = status
                }
            }
        }
        stream.pointee.next_in = nil
        if let failure { throw ZlibStreamError(code: failure, operation: "inflate") }
        output.removeSubrange(produced...)
        return output
    }
}
