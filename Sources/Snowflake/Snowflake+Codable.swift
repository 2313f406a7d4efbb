/// In JSON a Snowflake is a decimal string, as in Discord's API: JavaScript numbers lose
/// precision above 2^53. A JSON number is accepted on input.
extension Snowflake: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            do {
                self = try Snowflake.parse(text)
            } catch {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
            }
            return
        }
        if let number = try? container.decode(UInt64.self) {
            self.init(rawValue: number)
            return
        }
        throw DecodingError.dataCorruptedError(
            in: container,
            debugDescription: "a Snowflake must be a decimal string or a non-negative integer"
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
