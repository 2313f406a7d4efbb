import LWSTransport
import Dispatch
import Foundation
import Gateway
import ReadStatesModule
import Snowflake

/// What each harness feeds its input to: everything that parses bytes from the network
/// or the command line. Each must turn any input into a value or a clear error; a
/// crash, a hang or an ASan report is a finding.
enum FuzzTarget: String, CaseIterable {
    /// A client's text frame through the session state machine (decode, then what the
    /// protocol does with it: IDENTIFY with `client_state`, RESUME, acks, messages).
    case clientPayload = "client-payload"
    /// A server frame as the client decodes it (`ServerMessage`).
    case serverMessage = "server-message"
    /// zlib-stream messages from a server: the client's inflater.
    case zlibStream = "zlib-stream"
    /// An HTTP request (method, path, query, token, body) through the REST routes.
    case rest
    /// A token as `TokenAuthority` verifies it.
    case token
    /// Snowflake IDs from text (the REST paths, CLI options) and from JSON.
    case snowflake
    /// Gateway URLs (`chat --url`) and their query (`?compress=…`).
    case url

    func run(_ input: [UInt8]) {
        switch self {
        case .clientPayload: Self.clientPayload(input)
        case .serverMessage: _ = try? ServerMessage.decode(input)
        case .zlibStream: Self.zlibStream(input)
        case .rest: Self.rest(input)
        case .token: _ = try? Self.tokens.verify(String(decoding: input, as: UTF8.self))
        case .snowflake: Self.snowflake(input)
        case .url: Self.url(input)
        }
    }

    static let tokens = TokenAuthority(secret: Data(repeating: 3, count: 32))
    static let user = Snowflake(rawValue: 80_351_110_224_678_912)
    static let channel = Snowflake(rawValue: 175_928_847_299_117_063)

    /// A session that has identified (so that requests reach the core's paths), then
    /// the input as one more frame; with the machine's own decode first.
    private static func clientPayload(_ input: [UInt8]) {
        _ = try? ClientPayload.decode(input)
        // The fast path for common frames says nothing the full decoder would not.
        if let common = input.withUnsafeBufferPointer({ ClientPayload.decodeCommon($0) }) {
            precondition(common == (try? ClientPayload.decodeFully(input)), "the fast path disagrees on \(input)")
        }
        var machine = SessionMachine(configuration: .init(), tokens: tokens, now: 0)
        _ = machine.receive(input, now: 1)
        var identified = SessionMachine(configuration: .init(), tokens: tokens, now: 0)
        _ = identified.receive(Array(#"{"op":2,"d":{"token":"\#(tokens.mint(user: user))"}}"#.utf8), now: 1)
        identified.ready()
        _ = identified.receive(input, now: 2)
    }

    /// Messages separated by 0xFE 0xFD (two bytes a zlib stream rarely has at a message
    /// boundary), pushed in turn into one inflater.
    private static func zlibStream(_ input: [UInt8]) {
        guard let inflater = try? ZlibStreamInflater(maximumPayloadBytes: 1 << 20) else { return }
        var start = 0
        var index = 0
        while index + 1 < input.count {
            if input[index] == 0xFE && input[index + 1] == 0xFD {
                _ = try? inflater.push(Array(input[start..<index]))
                start = index + 2
                index += 2
            } else {
                index += 1
            }
        }
        _ = try? inflater.push(Array(input[start...]))
    }

    /// Lines: method, path, query, authorization ("T" stands for a valid token, "A" for
    /// the admin token), then the body (the rest, newlines included).
    private static func rest(_ input: [UInt8]) {
        var lines = input.split(separator: UInt8(ascii: "\n"), maxSplits: 4, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        while lines.count < 5 { lines.append("") }
        let authorization: String? =
            switch lines[3] {
            case "": nil
            case "T": tokens.mint(user: user)
            case "A": tokens.adminToken
            default: lines[3]
            }
        let request = HTTPRequest(
            method: lines[0], path: lines[1], query: lines[2].isEmpty ? nil : lines[2], authorization: authorization,
            body: Array(lines[4].utf8)
        )
        let done = DispatchSemaphore(value: 0)
        Task {
            _ = await restAPI.respond(to: request)
            done.signal()
        }
        done.wait()
    }

    private static let restAPI: RESTAPI = {
        let engine = ReadStates(configuration: .init(capacity: 10_000, shards: 2), persistence: InMemoryReadStatesPersistence())
        let directory = ChannelDirectory([ChatChannel(id: channel, name: "general", members: [user])])
        return RESTAPI(
            engine: engine, tokens: tokens, directory: directory, channelStore: InMemoryReadStatesPersistence(),
            versions: ReadStateVersions(generation: 1), serving: { true }
        )
    }()

    private static func snowflake(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        if let parsed = try? Snowflake.parse(text) {
            // What parses prints back as the same number.
            precondition(Snowflake(parsed.description) == parsed, "\(text) parsed as \(parsed) but does not round-trip")
        }
        _ = Snowflake(utf8: input)
        _ = try? JSONDecoder().decode([Snowflake].self, from: Data(input))
    }

    private static func url(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        if let endpoint = try? WebSocketEndpoint(url: text) {
            _ = endpoint.compression
            _ = endpoint.description
        }
        _ = try? GatewayConnectOptions(query: text)
        _ = HTTPRequest(method: "GET", path: "/", query: text).queryArgument("since")
    }
}
