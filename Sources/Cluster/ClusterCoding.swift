package import Snowflake

/// The cluster's wire format, for the envelope here and the gateway's messages.
/// Appends big-endian integers and length-prefixed bytes.
package struct ClusterWriter {
    package private(set) var output: [UInt8] = []

    package init(capacity: Int = 0) { output.reserveCapacity(capacity) }

    /// Bytes as they are, with no length before them.
    package mutating func raw(_ bytes: some Collection<UInt8>) { output += bytes }

    package mutating func byte(_ value: UInt8) { output.append(value) }

    package mutating func integer(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    package mutating func id(_ value: Snowflake) { integer(value.rawValue) }

    package mutating func ids(_ values: [Snowflake]) {
        integer(UInt64(values.count))
        for value in values { id(value) }
    }

    package mutating func bytes(_ value: [UInt8]) {
        integer(UInt64(value.count))
        output += value
    }

    package mutating func string(_ value: String) { bytes(Array(value.utf8)) }
}

/// Reads what ``ClusterWriter`` wrote; every read is bounds-checked (nil past the end).
package struct ClusterReader {
    private let input: [UInt8]
    private var position = 0

    package init(_ input: [UInt8]) { self.input = input }

    package var isAtEnd: Bool { position == input.count }

    package mutating func byte() -> UInt8? {
        guard position < input.count else { return nil }
        defer { position += 1 }
        return input[position]
    }

    package mutating func integer() -> UInt64? {
        guard input.count - position >= 8 else { return nil }
        var value: UInt64 = 0
        for index in position..<(position + 8) { value = value << 8 | UInt64(input[index]) }
        position += 8
        return value
    }

    package mutating func id() -> Snowflake? { integer().map { Snowflake(rawValue: $0) } }

    package mutating func ids() -> [Snowflake]? {
        guard let count = integer(), count <= UInt64(input.count - position) / 8 else { return nil }
        var values: [Snowflake] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let value = id() else { return nil }
            values.append(value)
        }
        return values
    }

    /// `count` bytes as they are (no length before them).
    package mutating func raw(count: Int) -> [UInt8]? {
        guard count >= 0, input.count - position >= count else { return nil }
        defer { position += count }
        return Array(input[position..<(position + count)])
    }

    package mutating func bytes() -> [UInt8]? {
        guard let count = integer(), count <= UInt64(input.count - position) else { return nil }
        defer { position += Int(count) }
        return Array(input[position..<(position + Int(count))])
    }

    package mutating func string() -> String? { bytes().map { String(decoding: $0, as: UTF8.self) } }

    /// Everything not read yet (then at the end).
    package mutating func rest() -> [UInt8]? {
        defer { position = input.count }
        return Array(input[position...])
    }
}
