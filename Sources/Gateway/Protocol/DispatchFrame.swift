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
    /// One event, kept once for every session it goes to: its `d` (the bytes the
    /// caller encoded, not copied) and its name.
    public final class SharedEvent: Sendable {
        let payload: [UInt8]
        let type: String
        /// The name as a JSON string, quotes included, when it needs escaping (never
        /// for the gateway's own events); nil when its bytes go between quotes as they are.
        let escapedType: [UInt8]?

        /// `payload`: the event's `d`, as JSON.
        public init(type: String, payload: [UInt8]) {
            self.payload = payload
            self.type = type
            var name = type
            let plain = name.withUTF8 { bytes in
                !bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
            }
            if plain {
                escapedType = nil
            } else {
                var writer = JSONWriter(capacity: type.utf8.count * 6 + 2)
                writer.string(type)
                escapedType = writer.bytes
            }
        }

        /// Bytes of the name as written, quotes included.
        var typeCount: Int { escapedType?.count ?? type.utf8.count + 2 }
    }

    private static let head: StaticString = #"{"op":0,"d":"#
    private static let sequenceKey: StaticString = #","s":"#
    private static let typeKey: StaticString = #","t":"#

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
        case .shared(let event, let sequence):
            Self.head.utf8CodeUnitCount + event.payload.count + Self.sequenceKey.utf8CodeUnitCount + Self.digits(sequence)
                + Self.typeKey.utf8CodeUnitCount + event.typeCount + 1
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
        precondition(buffer.count >= count)
        switch storage {
        case .whole(let frame):
            frame.withUnsafeBytes { buffer.copyMemory(from: $0) }
        case .shared(let event, let sequence):
            var out = buffer.baseAddress!
            func put(_ bytes: UnsafeRawBufferPointer) {
                guard let base = bytes.baseAddress else { return }
                out.copyMemory(from: base, byteCount: bytes.count)
                out += bytes.count
            }
            func put(_ text: StaticString) {
                out.copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
                out += text.utf8CodeUnitCount
            }
            func put(_ byte: UInt8) {
                out.storeBytes(of: byte, as: UInt8.self)
                out += 1
            }
            put(Self.head)
            event.payload.withUnsafeBytes { put($0) }
            put(Self.sequenceKey)
            let length = Self.digits(sequence)
            var value = sequence
            for index in stride(from: length - 1, through: 0, by: -1) {
                let (rest, digit) = value.quotientAndRemainder(dividingBy: 10)
                out.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digit), toByteOffset: index, as: UInt8.self)
                value = rest
            }
            out += length
            put(Self.typeKey)
            if let escaped = event.escapedType {
                escaped.withUnsafeBytes { put($0) }
            } else {
                put(UInt8(ascii: "\""))
                var name = event.type
                name.withUTF8 { put(UnsafeRawBufferPointer($0)) }
                put(UInt8(ascii: "\""))
            }
            put(UInt8(ascii: "}"))
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
