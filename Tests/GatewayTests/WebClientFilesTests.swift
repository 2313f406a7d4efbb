import LWSTransport
import Foundation
import Gateway
import ReadStatesModule
import Testing

/// The web client's files as the HTTP routes serve them: names, types, ETags and the
/// headers that keep the page to its own scripts.
@Suite struct WebClientFilesTests {
    let api: RESTAPI

    init() throws {
        api = RESTAPI(
            engine: ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence()),
            tokens: TokenAuthority(secret: Data(repeating: 3, count: 32)),
            directory: ChannelDirectory(),
            webClient: try WebClientFiles.embedded(),
            serving: { true }
        )
    }

    func header(_ response: HTTPResponse, _ name: String) -> String? {
        response.headers.first { $0.name == name }?.value
    }

    @Test(arguments: [("/", "text/html"), ("/app.js", "text/javascript"), ("/gateway.js", "text/javascript"),
                      ("/readstates.js", "text/javascript"), ("/style.css", "text/css")])
    func everyFileIsServedWithItsTypeAndTheHeaders(path: String, type: String) async throws {
        let response = await api.respond(to: HTTPRequest(method: "GET", path: path))
        #expect(response.status == 200)
        #expect(response.contentType.hasPrefix(type))
        #expect(!response.body.isEmpty)
        let policy = try #require(header(response, "content-security-policy"))
        #expect(policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"))
        #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
        #expect(header(response, "x-content-type-options") == "nosniff")
        #expect(header(response, "cache-control") == "no-cache")

        // Revalidation with the ETag: 304 and no body; another ETag: the file again.
        let etag = try #require(header(response, "etag"))
        let again = await api.respond(to: HTTPRequest(method: "GET", path: path, ifNoneMatch: etag))
        #expect(again.status == 304)
        #expect(again.body.isEmpty)
        let stale = await api.respond(to: HTTPRequest(method: "GET", path: path, ifNoneMatch: "\"other\""))
        #expect(stale.status == 200)
    }

    @Test(arguments: ["/../Package.swift", "/.hidden", "/nothing.js", "/dir/app.js", "/app.js%00", "/secret.txt", "/%2e%2e/x"])
    func namesOutsideTheClientAreNotFound(path: String) async {
        #expect(await api.respond(to: HTTPRequest(method: "GET", path: path)).status == 404)
    }

    @Test func theAPIIsNotShadowedAndOtherMethodsAreRefused() async {
        #expect(await api.respond(to: HTTPRequest(method: "GET", path: "/api/users/@me/read-states")).status == 401)
        #expect(await api.respond(to: HTTPRequest(method: "POST", path: "/")).status == 404)
    }

    @Test func theIndexHasNoInlineScript() async throws {
        let page = String(decoding: await api.respond(to: HTTPRequest(method: "GET", path: "/")).body, as: UTF8.self)
        let scripts = page.components(separatedBy: "<script").dropFirst()
        #expect(!scripts.isEmpty)
        for script in scripts {
            #expect(script.hasPrefix(#" type="module" src="/"#), "\(script.prefix(60))")
            #expect(script.contains("></script>"))
        }
        #expect(page.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil)
    }

    @Test func aDirectoryWithoutAnIndexIsAClearError() {
        #expect(throws: GatewayError.self) { try WebClientFiles.directory(URL(fileURLWithPath: "/nonexistent-\(UUID())")) }
    }
}
