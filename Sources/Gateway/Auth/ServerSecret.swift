public import Foundation

/// The server's signing secret: 32 random bytes, hex encoded in a file.
///
/// `serve` without `--secret-file` keeps it as `secret` in the data directory,
/// generated on first start (mode 0600); `readstates token` reads the same file.
public enum ServerSecret {
    public static let fileName = "secret"

    /// The secret a server and its tools share: `secretFile` when given (it must
    /// exist), else `secret` in `dataDirectory`, created there when `createInDataDirectory`
    /// is set and it is missing.
    public static func load(secretFile: String?, dataDirectory: URL, createInDataDirectory: Bool) throws -> Data {
        if let secretFile { return try load(from: URL(fileURLWithPath: secretFile), createIfMissing: false) }
        return try load(from: dataDirectory.appendingPathComponent(fileName), createIfMissing: createInDataDirectory)
    }

    /// Reads the secret at `url`, creating it first when `create` is set and it is
    /// missing.
    public static func load(from url: URL, createIfMissing create: Bool) throws -> Data {
        let manager = FileManager.default
        if create, !manager.fileExists(atPath: url.path) {
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let hex = bytes.map { String(format: "%02x", $0) }.joined() + "\n"
            guard manager.createFile(atPath: url.path, contents: Data(hex.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ServerSecretError("cannot write the secret file \(url.path)")
            }
        }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw ServerSecretError("cannot read the secret file \(url.path)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count >= 32 else {
            throw ServerSecretError("the secret in \(url.path) is shorter than 32 characters")
        }
        return Data(trimmed.utf8)
    }
}

public struct ServerSecretError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
