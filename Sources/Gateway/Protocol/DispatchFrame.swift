/// A dispatch as a session keeps it for RESUME and the transport writes it.
///
/// An event that goes to many sessions (MESSAGE_CREATE to a channel's members) differs
/// between their frames only in `s`: each keeps the event's bytes, shared
/// (``SharedEvent``), and its own sequence number, and its frame
/// `{"op":0,"d":…,"s":N,"t":"TYPE"}` is written straight into the socket's write
/// buffer (``write(to:)``). A whole frame per recipient was a `malloc` of fresh memory,
/// the frame written and the page faults of a history that grows: 5% of the gateway's
/// CPU at 1,000 sessions and 3,000 events/s (`perf record --call-graph dwarf`); and
/// every session's resume history held its own copy of `d`. Frames built whole (READY,
/// RESUMED, REQUEST_ERROR) are kept as they are.
public struct DispatchFrame: Sendable, Equatable {
    /// One event, kept once for every session it goes to: its frame before the
    /// number (`{"op":0,"d":…,"s":`) and after it (`,"t":"TYPE"}`), written once, in
    /// one allocation that is never changed afterwards. Raw memory rather than arrays:
    /// writing a frame then retains nothing but this object (retains of the arrays
    /// and the name were 2% of the gateway's CPU in `perf`).
    public final class SharedEvent: @unchecked Sendable {
        private let storage: UnsafeMutableRawBufferPointer
        private let frontCount: Int

        /// `payload`: the event's `d`, as JSON.
        public init(type: String, payload: [UInt8]) {
            var name = type
            let plain = name.withUTF8 { bytes in
                !bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
            }
            // A name that needs escaping (never the gateway's own) goes through the writer.
            var escaped: [UInt8]?
            if !plain {
                var writer = JSONWriter(capacity: type.utf8.count * 6 + 2)
                writer.string(type)
                escaped = writer.bytes
            }
            let quotedCount = escaped?.count ?? name.utf8.count + 2
            let head: StaticString = #"{"op":0,"d":"#
            let sequenceKey: StaticString = #","s":"#
            let typeKey: StaticString = #","t":"#
            frontCount = head.utf8CodeUnitCount + payload.count + sequenceKey.utf8CodeUnitCount
            let total = frontCount + typeKey.utf8CodeUnitCount + quotedCount + 1
            storage = .allocate(byteCount: total, alignment: 1)
            var at = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                guard let base = bytes.baseAddress else { return }
                (storage.baseAddress! + at).copyMemory(from: base, byteCount: bytes.count)
                at += bytes.count
            }
            head.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
            payload.withUnsafeBytes { put($0) }
            sequenceKey.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
            typeKey.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
            if let escaped {
                escaped.withUnsafeBytes { put($0) }
            } else {
                storage[at] = UInt8(ascii: "\"")
                at += 1
                name.withUTF8 { put(UnsafeRawBufferPointer($0)) }
                storage[at] = UInt8(ascii: "\"")
                at += 1
            }
            storage[at] = UInt8(ascii: "}")
        }

        deinit {
            storage.deallocate()
        }

        /// The frame's bytes, less the number's.
        var count: Int { storage.count }

        /// Writes the frame numbered `sequence` (of `digits` digits) at `out`.
        func write(sequence: Int, digits: Int, to out: UnsafeMutableRawPointer) {
            out.copyMemory(from: storage.baseAddress!, byteCount: frontCount)
            var value = sequence
            for index in stride(from: frontCount + digits - 1, through: frontCount, by: -1) {
                let (rest, digit) = value.quotientAndRemainder(dividingBy: 10)
                out.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digit), toByteOffset: index, as: UInt8.self)
                value = rest
            }
            (out + frontCount + digits).copyMemory(from: storage.baseAddress! + frontCount, byteCount: storage.count - frontCount)
        }
    }

    private enum Storage {
        case whole([UInt8])
        case shared(SharedEvent, sequence: Int)
    }

    private var storage: Storage

    /// A frame built whole (by ``ServerFrame/dispatch(_:sequence:writing:)``).
    public init(whole frame: [UInt8]) {
        storage = .whole(frame)
    }

    /// `event`'s frame, numbered `sequence` (not negative).
    public init(_ event: SharedEvent, sequence: Int) {
        precondition(sequence >= 0)
        storage = .shared(event, sequence: sequence)
    }

    /// An empty frame: what a trimmed history entry keeps (its bytes released).
    static let released = DispatchFrame(whole: [])

    /// Its length in bytes.
    public var count: Int {
        switch storage {
        case .whole(let frame): frame.count
        case .shared(let event, let sequence): event.count + Self.digits(sequence)
        }
    }

    /// The frame's bytes, built if it is not kept whole.
    public var bytes: [UInt8] {
        switch storage {
        case .whole(let frame):
            return frame
        case .shared:
            let count = count
            return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                write(to: UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
        }
    }

    /// Writes the frame's ``count`` bytes at the start of `buffer` (which must hold them).
    public func write(to buffer: UnsafeMutableRawBufferPointer) {
        switch storage {
        case .whole(let frame):
            precondition(buffer.count >= frame.count)
            frame.withUnsafeBytes { buffer.copyMemory(from: $0) }
        case .shared(let event, let sequence):
            let digits = Self.digits(sequence)
            precondition(buffer.count >= event.count + digits)
            event.write(sequence: sequence, digits: digits, to: buffer.baseAddress!)
        }
    }

    /// Frames are equal when their bytes are.
    public static func == (lhs: DispatchFrame, rhs: DispatchFrame) -> Bool {
        lhs.bytes == rhs.bytes
    }

    /// Decimal digits of a non-negative `value`.
    private static func digits(_ value: Int) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }
}
