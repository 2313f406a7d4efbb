import LWSTransport
import Crypto
public import Foundation

/// The web client's static files (HTML, CSS, JavaScript modules), served at `/`.
///
/// Embedded in the build as a SwiftPM resource, read once at start; or, for working on
/// the client (`serve --web-root DIR`), read from a directory on every request so an
/// edit shows on reload. Every answer carries an ETag (a hash of the bytes) with
/// `Cache-Control: no-cache`, so a browser revalidates and gets 304 while nothing
/// changed, and the headers that keep the page to its own scripts: a
/// `Content-Security-Policy` with no inline script and no `eval`, connections to its
/// own origin only, and `X-Content-Type-Options: nosniff`.
public struct WebClientFiles: Sendable {
    struct File: Sendable {
        var contentType: String
        var bytes: [UInt8]
        var etag: String
    }

    private enum Source: Sendable {
        case embedded([String: File])
        case directory(URL)
    }

    private let source: Source

    /// The policy every file is served with: scripts, styles and connections from the
    /// page's own origin only (`'self'` covers its ws:// and wss://), nothing inline.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The files built with the executable (SwiftPM copies them into the
    /// `readstates_Gateway.resources` folder next to it).
    /// - Throws: when that folder is missing (a binary copied without it).
    public static func embedded() throws -> WebClientFiles {
        // Looked up by hand: SwiftPM's `Bundle.module` stops the process (fatalError)
        // when the bundle is missing, and a binary copied without it must still serve.
        let bundleName = "readstates_Gateway.resources"
        let candidates = [
            Bundle.main.bundleURL,
            URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent(),
        ].map { $0.appendingPathComponent(bundleName).appendingPathComponent("WebClient") }
        guard let folder = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path) })
        else {
            throw GatewayError.webClientMissing("\(bundleName)/WebClient next to the executable")
        }
        var files: [String: File] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            files[name] = try read(folder.appendingPathComponent(name))
        }
        return WebClientFiles(source: .embedded(files))
    }

    /// Files read from `directory` on each request (for developing the client).
    /// - Throws: when the directory has no `index.html`.
    public static func directory(_ directory: URL) throws -> WebClientFiles {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("index.html").path) else {
            throw GatewayError.webClientMissing("index.html in \(directory.path)")
        }
        return WebClientFiles(source: .directory(directory))
    }

    private init(source: Source) {
        self.source = source
    }

    /// The answer for `GET path`, or nil when no file has that name (the caller's 404).
    func respond(to request: HTTPRequest) -> HTTPResponse? {
        guard let name = Self.fileName(request.path), let file = file(named: name) else { return nil }
        let headers = [
            HTTPHeader("etag", file.etag),
            HTTPHeader("cache-control", "no-cache"),
            HTTPHeader("content-security-policy", Self.contentSecurityPolicy),
            HTTPHeader("x-content-type-options", "nosniff"),
            HTTPHeader("referrer-policy", "no-referrer"),
        ]
        if let known = request.ifNoneMatch, known.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == file.etag }) {
            return HTTPResponse(status: 304, contentType: file.contentType, headers: headers, body: [])
        }
        return HTTPResponse(status: 200, contentType: file.contentType, headers: headers, body: file.bytes)
    }

    /// `/` is `index.html`; otherwise one plain file name (no folders, no `..`).
    static func fileName(_ path: String) -> String? {
        if path == "/" || path == "/index.html" { return "index.html" }
        let name = path.dropFirst()
        guard path.hasPrefix("/"), !name.isEmpty, !name.hasPrefix("."),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") })
        else { return nil }
        return String(name)
    }

    private func file(named name: String) -> File? {
        switch source {
        case .embedded(let files): files[name]
        case .directory(let directory): try? Self.read(directory.appendingPathComponent(name))
        }
    }

    private static func read(_ url: URL) throws -> File? {
        guard let contentType = contentTypes[url.pathExtension] else { return nil }
        let bytes = try [UInt8](Data(contentsOf: url))
        let digest = SHA256.hash(data: bytes).prefix(12).map { String(format: "%02x", $0) }.joined()
        return File(contentType: contentType, bytes: bytes, etag: "\"\(digest)\"")
    }

    private static let contentTypes = [
        "html": "text/html; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "png": "image/png",
        "svg": "image/svg+xml",
        "ico": "image/x-icon",
    ]
}
