/// How the server's zlib-stream deflaters are set up: what each connection's stream
/// costs in memory and CPU, against how well it compresses.
///
/// deflate's state takes `(1 << (windowBits + 2)) + (1 << (memoryLevel + 9))` bytes plus
/// about 6 KiB (zlib's zconf.h): 262 KiB per connection at zlib's defaults (15, 8),
/// 2.6 GB for 10,000 sessions. The defaults here are chosen by measurement (see
/// BENCHMARKS.md, "zlib-stream"): gateway payloads are small and repetitive, and a small
/// window keeps most of the gain.
public struct ZlibStreamSettings: Sendable, Equatable {
    /// 1 (fastest) to 9 (smallest).
    public var level: Int32
    /// 9 to 15: the window is 2^windowBits bytes (clients may inflate with any window
    /// at least this large; zlib's default of 15 always works).
    public var windowBits: Int32
    /// 1 to 9: memory for the compression state.
    public var memoryLevel: Int32

    public init(level: Int32 = 6, windowBits: Int32 = 12, memoryLevel: Int32 = 5) {
        self.level = level
        self.windowBits = windowBits
        self.memoryLevel = memoryLevel
    }

    /// deflate's own state per stream (zlib's documented formula), in bytes.
    public var bytesPerStream: Int {
        (1 << (Int(windowBits) + 2)) + (1 << (Int(memoryLevel) + 9)) + 6 * 1024
    }
}
