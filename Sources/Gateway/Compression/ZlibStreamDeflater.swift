internal import CZlib

/// One connection's side of Discord's zlib-stream transport compression: a single
/// deflate stream for everything the server sends on the connection, each payload
/// flushed with `Z_SYNC_FLUSH`, so that every compressed message ends with
/// `00 00 ff ff` and the client can inflate it on arrival with one `inflate` context
/// for the connection's life.
///
/// zlib directly (Debian's zlib1g) rather than compress-nio: same library underneath,
/// without a `ByteBuffer` copy per frame on the service thread or swift-nio in the
/// gateway target (measured: BENCHMARKS.md, "zlib-stream").
package final class ZlibStreamDeflater {
    private let stream: UnsafeMutablePointer<z_stream>

    package init(_ settings: ZlibStreamSettings) throws(ZlibStreamError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = CZlib_deflateInit2(stream, settings.level, settings.windowBits, settings.memoryLevel)
        guard status == Z_OK else {
            stream.deallocate()
            throw ZlibStreamError(code: status, operation: "deflateInit2")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// `payload` compressed into the stream and sync-flushed: the bytes of one binary
    /// message.
    package func compress(_ payload: [UInt8]) -> [UInt8] {
        // deflateBound plus room for the flush marker: enough in one pass almost always.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(payload.count))) + 16)
        var produced = 0
        var status = Z_OK
        payload.withUnsafeBufferPointer { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            while true {
                if produced == output.count { output += [UInt8](repeating: 0, count: max(64, output.count / 2)) }
                let room = output.count - produced
                output.withUnsafeMutableBufferPointer { buffer in
                    stream.pointee.next_out = buffer.baseAddress! + produced
                    stream.pointee.avail_out = uInt(room)
                    status = deflate(stream, Z_SYNC_FLUSH)
                }
                produced += room - Int(stream.pointee.avail_out)
                // Done when the input is consumed and deflate did not fill the output.
                // Z_STREAM_ERROR means a broken stream state (a bug): stop rather than
                // loop on the service thread; what was produced goes out.
                if status == Z_STREAM_ERROR || (stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0) { break }
            }
        }
        stream.pointee.next_in = nil
        output.removeSubrange(produced...)
        return output
    }
}
