/// A zlib call failed: out of memory, bad settings, or (inflating) bytes that are not
/// a zlib stream.
public struct ZlibStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// zlib's return code (`Z_MEM_ERROR`, `Z_DATA_ERROR`, …).
    public var code: Int32
    public var operation: String

    public var description: String { "zlib \(operation) failed (\(code))" }
}
