/// In JSON a Snowflake is a decimal string, as in Discord's API: JavaScript numbers are
/// doubles and lose precision above 2^53, which every current ID exceeds. A JSON number
/// is accepted on input (from clients that are not JavaScript), but only a whole one in
/// range: a fraction or a negative number means the client already lost the ID.
extension Snowflake: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            do {
                self = try Snowflake.parse(text)
            } catch {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
            }
        } else if let number = try? container.decode(UInt64.self) {
            self.init(rawValue: number)
        } else if let number = try? container.decode(Double.self) {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "\(number) is not a Snowflake: a number must be a whole number "
                    + "from 0 to \(UInt64.max); send IDs as decimal strings"
            )
        } else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "a Snowflake must be a decimal string such as \"175928847299117063\""
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
