import Foundation

/// A frame from the server as a client decodes it: the other half of ``ServerFrame``.
public enum ServerMessage: Sendable {
    case hello(heartbeatIntervalMilliseconds: Int)
    case heartbeatAck
    case reconnect
    case invalidSession(resumable: Bool)
    case dispatch(sequence: Int, DispatchEvent)

    /// A dispatch's event, by its `t`.
    public enum DispatchEvent: Sendable {
        case ready(ReadyPayload)
        case resumed
        case messageCreate(MessageCreate)
        case messageAck(MessageAck)
        case requestError(RequestError)
        /// An event this client does not know: skipped, but its sequence still counts.
        case other(String)
    }

    public struct DecodeError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Decodes one text frame from the server.
    public static func decode(_ frame: [UInt8]) throws(DecodeError) -> ServerMessage {
        do {
            return try GatewayJSON.decoder.decode(Wire.self, from: Data(frame)).message
        } catch {
            throw DecodeError(description: "undecodable frame from the server: \(error)")
        }
    }

    /// `{"op","d","s","t"}`, with `d` decoded by `op` and `t`.
    private struct Wire: Decodable {
        var message: ServerMessage

        enum CodingKeys: String, CodingKey { case op, d, s, t }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let op = try container.decode(Int.self, forKey: .op)
            switch GatewayOpcode(rawValue: op) {
            case .hello:
                message = .hello(heartbeatIntervalMilliseconds: try container.decode(Hello.self, forKey: .d).heartbeatInterval)
            case .heartbeatAck:
                message = .heartbeatAck
            case .reconnect:
                message = .reconnect
            case .invalidSession:
                message = .invalidSession(resumable: (try? container.decode(Bool.self, forKey: .d)) ?? false)
            case .dispatch:
                let sequence = try container.decode(Int.self, forKey: .s)
                let type = try container.decode(String.self, forKey: .t)
                let event: DispatchEvent =
                    switch type {
                    case "READY": .ready(try container.decode(ReadyPayload.self, forKey: .d))
                    case "RESUMED": .resumed
                    case "MESSAGE_CREATE": .messageCreate(try container.decode(MessageCreate.self, forKey: .d))
                    case "MESSAGE_ACK": .messageAck(try container.decode(MessageAck.self, forKey: .d))
                    case "REQUEST_ERROR": .requestError(try container.decode(RequestError.self, forKey: .d))
                    default: .other(type)
                    }
                message = .dispatch(sequence: sequence, event)
            default:
                throw DecodingError.dataCorruptedError(forKey: .op, in: container, debugDescription: "unknown op \(op)")
            }
        }
    }

    private struct Hello: Decodable { var heartbeatInterval: Int }
}
