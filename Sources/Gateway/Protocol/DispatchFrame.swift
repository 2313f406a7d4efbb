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
    /// number (`{"op":0,"d":…,"s":`) and after it (`,"t":"TYPE"}`), written once into
    /// the bytes of one object (``EventBytes``) that is never changed afterwards:
    /// writing a frame then retains nothing but that object (retains of arrays and of
    /// the name were 2% of the gateway's CPU in `perf`), and an event costs one
    /// allocation.
    public struct SharedEvent: @unchecked Sendable {  // its bytes never change once shared
        fileprivate let bytes: EventBytes

        /// `payload`: the event's `d`, as JSON.
        public init(type: String, payload: [UInt8]) {
            // The name as JSON writes it (quoted, escaped if it must be).
            var name = JSONWriter(capacity: type.utf8.count + 8)
            name.string(type)
            let quoted = name.bytes
            let head: StaticString = #"{"op":0,"d":"#
            let sequenceKey: StaticString = #","s":"#
            let typeKey: StaticString = #","t":"#
            let front = head.utf8CodeUnitCount + payload.count + sequenceKey.utf8CodeUnitCount
            let total = front + typeKey.utf8CodeUnitCount + quoted.count + 1
            let created = EventBytes.create(minimumCapacity: total) { _ in (front: front, total: total) }
            bytes = unsafeDowncast(created, to: EventBytes.self)
            bytes.withUnsafeMutablePointerToElements { start in
                var at = start
                func put(_ source: UnsafeRawBufferPointer) {
                    guard let base = source.baseAddress else { return }
                    UnsafeMutableRawPointer(at).copyMemory(from: base, byteCount: source.count)
                    at += source.count
                }
                head.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
                payload.withUnsafeBytes { put($0) }
                sequenceKey.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
                typeKey.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
                quoted.withUnsafeBytes { put($0) }
                at.pointee = UInt8(ascii: "}")
            }
        }

        /// The frame's bytes, less the number's.
        var count: Int { bytes.header.total }

        /// Writes the frame numbered `sequence` (of `digits` digits) at `out`.
        func write(sequence: Int, digits: Int, to out: UnsafeMutableRawPointer) {
            let (front, total) = bytes.header
            bytes.withUnsafeMutablePointerToElements { start in
                out.copyMemory(from: start, byteCount: front)
                let written = JSONWriter.writeDigits(UInt64(sequence), to: (out + front).assumingMemoryBound(to: UInt8.self))
                assert(written == digits)
                (out + front + digits).copyMemory(from: start + front, byteCount: total - front)
            }
        }
    }

    /// A ``SharedEvent``'s bytes, after a header of where the number goes and how many
    /// there are; written once, before it is shared.
    fileprivate final class EventBytes: ManagedBuffer<(front: Int, total: Int), UInt8> {}

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

    /// Its `s`; nil for a frame that is not a dispatch.
    public var sequence: Int? {
        switch storage {
        case .whole(let frame): ServerFrame.sequence(of: frame)
        case .shared(_, let sequence): sequence
        }
    }

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
