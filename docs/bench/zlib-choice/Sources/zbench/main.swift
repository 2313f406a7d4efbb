import ZBenchCore
import CompressNIO
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// (b1) compress-nio, as a server holding [UInt8] frames would most simply call it:
/// a new ByteBuffer from the frame bytes, and compressStream(with:flush:) which allocates the output ByteBuffer.
final class CNIOAlloc: StreamCompressor {
    let c: ZlibCompressor
    var last = ByteBuffer()
    init(_ s: Setting) {
        c = try! ZlibCompressor(algorithm: .zlib,
                                configuration: ZlibConfiguration(windowSize: s.windowBits, compressionLevel: s.level, memoryLevel: s.memLevel))
    }
    func compress(_ frame: [UInt8]) -> Int {
        var input = ByteBuffer(bytes: frame)                       // copy #1: [UInt8] -> ByteBuffer (malloc)
        last = try! input.compressStream(with: c, flush: .sync)    // malloc of deflateBound+6 output
        precondition(input.readableBytes == 0)
        return last.readableBytes
    }
    var lastOutput: [UInt8] { Array(last.readableBytesView) }
    func dropBuffers() { last = ByteBuffer() }
}

/// (b2) compress-nio with per-stream input and output ByteBuffers reused across frames
/// (best case: assumes nobody else still holds the previous output buffer).
final class CNIOReuse: StreamCompressor {
    let c: ZlibCompressor
    var inBuf = ByteBufferAllocator().buffer(capacity: 512)
    var outBuf = ByteBufferAllocator().buffer(capacity: 512)
    init(_ s: Setting) {
        c = try! ZlibCompressor(algorithm: .zlib,
                                configuration: ZlibConfiguration(windowSize: s.windowBits, compressionLevel: s.level, memoryLevel: s.memLevel))
    }
    func compress(_ frame: [UInt8]) -> Int {
        inBuf.clear()
        inBuf.writeBytes(frame)                                    // copy #1 into reused storage
        outBuf.clear()
        outBuf.reserveCapacity(minimumWritableBytes: c.maxSize(from: inBuf))
        try! inBuf.compressStream(to: &outBuf, with: c, flush: .sync)
        // single-call API: with Z_SYNC_FLUSH a too-small output returns Z_OK (no error), so check
        precondition(inBuf.readableBytes == 0 && outBuf.writableBytes > 0)
        return outBuf.readableBytes
    }
    var lastOutput: [UInt8] { Array(outBuf.readableBytesView) }
    func dropBuffers() { inBuf = ByteBuffer(); outBuf = ByteBuffer() }
}

/// API behaviour probes for the report.
func apiProbe() {
    var f = FrameFactory(seed: 3)
    let ready = f.ready()
    // 1) single-call compressStream(to:with:flush: .sync) into a too-small buffer: throws or not?
    let c = try! ZlibCompressor(algorithm: .zlib, configuration: ZlibConfiguration(windowSize: 15, compressionLevel: 6, memoryLevel: 8))
    var input = ByteBuffer(bytes: ready)
    var small = ByteBufferAllocator().buffer(capacity: 1024)
    do {
        try input.compressStream(to: &small, with: c, flush: .sync)
        print("API small-output single call: no error thrown; wrote \(small.readableBytes) B, writable left \(small.writableBytes), input left unread \(input.readableBytes) of \(ready.count) B, ends with 0000ffff: \(Array(small.readableBytesView.suffix(4)) == [0, 0, 0xff, 0xff])")
    } catch {
        print("API small-output single call threw \(error)")
    }
    // 2) windowed API: fixed 16 KB window + process closure, handles partial output itself
    let c2 = try! ZlibCompressor(algorithm: .zlib, configuration: ZlibConfiguration(windowSize: 15, compressionLevel: 6, memoryLevel: 8))
    var input2 = ByteBuffer(bytes: ready)
    var window = ByteBufferAllocator().buffer(capacity: 16 * 1024)
    var pieces = 0, total: [UInt8] = []
    try! input2.compressStream(with: c2, window: &window, flush: .sync) { piece in pieces += 1; total += Array(piece.readableBytesView) }
    print("API windowed compressStream(with:window:flush:.sync:process:): \(pieces) process() calls, \(total.count) B, ends with 0000ffff: \(total.suffix(4) == [0, 0, 0xff, 0xff])")
    // 3) does the input ByteBuffer get copied when its storage is shared? (withUnsafeMutableReadableBytes => CoW)
    let c3 = try! ZlibCompressor(algorithm: .zlib, configuration: ZlibConfiguration(windowSize: 15, compressionLevel: 6, memoryLevel: 8))
    var shared = ByteBuffer(bytes: ready)
    let keep = shared  // second reference, e.g. a buffer still held elsewhere
    let before = shared.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    var out3 = ByteBufferAllocator().buffer(capacity: c3.maxSize(from: shared))
    try! shared.compressStream(to: &out3, with: c3, flush: .sync)
    shared.moveReaderIndex(to: 0)
    let after = shared.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    print("API input storage shared with another ByteBuffer: copied on compress (CoW): \(before != after)")
    withExtendedLifetime(keep) {}
}

if CommandLine.arguments.dropFirst().first == "api" { apiProbe(); exit(0) }

runCLI(methods: [
    directMethod,
    Method(name: "compress-nio-alloc") { CNIOAlloc($0) },
    Method(name: "compress-nio-reuse") { CNIOReuse($0) },
])
