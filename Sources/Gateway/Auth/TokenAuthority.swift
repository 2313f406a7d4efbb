import Crypto
public import Foundation
public import Snowflake

/// Mints and checks session tokens:
/// `base64url(user_id).base64url(issued_at).base64url(HMAC-SHA256(secret, first two parts))`,
/// the shape of Discord's bot tokens. The user ID and the issue time (Unix seconds)
/// are decimal ASCII before encoding; base64url has no padding.
///
/// The server holds the only secret: a token cannot be forged or altered without it,
/// and checking one needs no database.
public struct TokenAuthority: Sendable {
    private let key: SymmetricKey

    public init(secret: Data) {
        key = SymmetricKey(data: secret)
    }

    public func mint(user: Snowflake, issuedAt: Date = Date()) -> String {
        let payload = Base64URL.encode(Data(String(user.rawValue).utf8)) + "."
            + Base64URL.encode(Data(String(Int64(issuedAt.timeIntervalSince1970)).utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return payload + "." + Base64URL.encode(Data(signature))
    }

    /// The user a token was minted for.
    /// - Throws: ``TokenError`` when it is malformed or its signature does not match.
    public func verify(_ token: String) throws(TokenError) -> Snowflake {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = Base64URL.decode(parts[2]) else { throw .malformed }
        let payload = String(parts[0]) + "." + String(parts[1])
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data(payload.utf8), using: key) else {
            throw .badSignature
        }
        guard let userBytes = Base64URL.decode(parts[0]), let user = Snowflake(utf8: userBytes) else { throw .malformed }
        return user
    }
}

extension TokenAuthority {
    /// The admin credential: `admin.` + base64url(HMAC-SHA256(secret, "readstates-admin")).
    /// Whoever holds the secret file can mint it (`readstates token --admin`); it is
    /// needed to create channels over HTTP.
    public var adminToken: String {
        "admin." + Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data("readstates-admin".utf8), using: key)))
    }

    public func isAdmin(_ token: String) -> Bool {
        guard token.hasPrefix("admin."), let mac = Base64URL.decode(token.dropFirst("admin.".count)) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data("readstates-admin".utf8), using: key)
    }
}

public enum TokenError: Error, Equatable, CustomStringConvertible {
    case malformed
    case badSignature

    public var description: String {
        switch self {
        case .malformed: "the token is not of the form user.issued.signature"
        case .badSignature: "the token's signature does not match this server's secret"
        }
    }
}

/// RFC 4648 §5 base64url without padding.
enum Base64URL {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Byte by byte: Foundation's `replacingOccurrences` (through NSString) was a third
    /// of an IDENTIFY's cost in `perf`, on every connect.
    static func decode(_ text: some StringProtocol) -> Data? {
        var base64: [UInt8] = []
        base64.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                base64.append(byte)
            case UInt8(ascii: "-"): base64.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): base64.append(UInt8(ascii: "/"))
            default: return nil
            }
        }
        while base64.count % 4 != 0 { base64.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(base64))
    }
}
