import Foundation

/// The gateway's JSON conventions for Foundation's coders: snake_case keys, sorted on
/// output (stable bytes for tests), Snowflakes as strings (their own `Codable`). One
/// configured instance of each, shared: building and configuring a coder per frame or
/// per request is work the service thread does not need to do.
enum GatewayJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}
