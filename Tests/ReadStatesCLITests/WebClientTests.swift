import Foundation
import TestSupport
import Testing

/// The web client in a real headless browser (Debian's chromium, driven by selenium
/// from Tests/Clients/web_client_check.py) against `readstates serve --demo`, which the
/// script starts, restarts and stops.
@Suite(.timeLimit(.minutes(5))) struct WebClientTests {
    @Test func twoPagesOfOneUserAndOneOfAnotherFollowReadStatesLive() async throws {
        let run = try await runServeScript("web_client_check.py")
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("web client: all checks passed"))
    }

    @Test func demoPrintsASignedInLinkPerUserAndTheWebRootMustHoldAPage() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-web-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServeProcess.start(["--data-dir", directory.path, "--demo"])
        #expect(try await server.stop() == 0)
        for user in ["80351110224678912", "80351110224678913", "80351110224678914"] {
            #expect(server.output.contains("demo user \(user): http://127.0.0.1:\(server.port)/#token="), "\(server.output)")
        }
        #expect(server.output.contains("web client: open http://127.0.0.1:\(server.port)/ in a browser"))

        let empty = try await CommandRun.readstates("serve", "--web-root", directory.appendingPathComponent("nothing").path)
        #expect(empty.status == 64)
        #expect(empty.standardError.contains("--web-root: the web client is not there: no index.html"), "\(empty.standardError)")
    }
}
