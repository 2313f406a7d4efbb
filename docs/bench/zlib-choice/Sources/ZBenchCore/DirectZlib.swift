import CZlib

/// (a) Thin wrapper around one zlib deflate stream (zlib format), Z_SYNC_FLUSH per frame,
/// output into a reusable [UInt8] buffer owned by the stream.
public final class DirectZlibStream {
    // z_stream must not move: zlib's deflateStateCheck compares state->strm with the pointer.
    private let strm: UnsafeMutablePointer<z_stream>
    /// Reusable output buffer; valid bytes are output[0..<lastCount] after compress().
    public private(set) var output: [UInt8]
    public private(set) var lastCount: Int = 0

    public init(level: Int32, windowBits: Int32, memLevel: Int32, initialOutputCapacity: Int = 512) {
        strm = .allocate(capacity: 1)
        strm.initialize(to: z_stream())  // zalloc/zfree/opaque = nil → malloc/free
        let rc = deflateInit2_(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY,
                               zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "deflateInit2_ failed: \(rc)")
        output = [UInt8](unsafeUninitializedCapacity: initialOutputCapacity) { _, n in n = initialOutputCapacity }
    }

    deinit {
        deflateEnd(strm)
        strm.deinitialize(count: 1)
        strm.deallocate()
    }

    /// Compress one frame with Z_SYNC_FLUSH. Returns the number of output bytes (in `output`).
    @discardableResult
    public func compress(_ input: UnsafeRawBufferPointer) -> Int {
        let bound = Int(deflateBound(strm, UInt(input.count))) + 6  // + empty stored block of the sync flush
        if output.count < bound {  // grow without zero-filling (pages are touched only as deflate writes)
            output = [UInt8](unsafeUninitializedCapacity: bound) { _, n in n = bound }
        }
        strm.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        strm.pointee.avail_in = UInt32(input.count)
        var produced = 0
        while true {
            var rc: Int32 = 0
            output.withUnsafeMutableBufferPointer { ob in
                strm.pointee.next_out = ob.baseAddress! + produced
                strm.pointee.avail_out = UInt32(ob.count - produced)
                rc = deflate(strm, Z_SYNC_FLUSH)
                produced = ob.count - Int(strm.pointee.avail_out)
            }
            precondition(rc == Z_OK || rc == Z_BUF_ERROR, "deflate failed: \(rc)")
            if strm.pointee.avail_out != 0 { break }
            // output full: flush may be incomplete, grow and continue (never happens with the bound above)
            let newCount = output.count * 2
            output = [UInt8](unsafeUninitializedCapacity: newCount) { buf, n in
                _ = buf.initialize(fromContentsOf: output); n = newCount  // keep produced bytes
            }
        }
        precondition(strm.pointee.avail_in == 0)
        strm.pointee.next_in = nil
        lastCount = produced
        return produced
    }

    @discardableResult
    public func compress(_ frame: [UInt8]) -> Int {
        frame.withUnsafeBytes { compress($0) }
    }

    /// Drop a large output buffer (e.g. after READY) back to a small one.
    public func shrinkOutput(to n: Int = 512) {
        if output.count > n { output = [UInt8](unsafeUninitializedCapacity: n) { _, c in c = n } }
    }

    public var lastOutput: [UInt8] { Array(output[0..<lastCount]) }
}
