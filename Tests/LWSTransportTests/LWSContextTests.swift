import Foundation
import Testing
import TestSupport

@testable import LWSTransport

@Suite(.serialized, .timeLimit(.minutes(2))) struct LWSContextTests {
    /// Opens a TCP connection to prove that something listens on the port.
    private func canConnect(port: Int32) -> Bool {
        guard let fd = LoopbackSocket.connect(port: port) else { return false }
        close(fd)
        return true
    }

    @Test func contextListensOnThePortTheKernelPicksAndReleasesIt() throws {
        var context: LWSContext? = try LWSContext(.init(port: 0, protocols: [.httpOnly()]))
        let port = try #require(context?.listenPort)
        #expect(port > 0)
        #expect(canConnect(port: port))
        context = nil
        #expect(!canConnect(port: port))
    }

    @Test func aPortInUseIsAClearError() throws {
        let port = try #require(LoopbackPort.free())
        let first = try LWSContext(.init(port: port, protocols: [.httpOnly()]))
        #expect(throws: TransportError.listenFailed(host: "127.0.0.1", port: Int(port))) {
            _ = try LWSContext(.init(port: port, protocols: [.httpOnly()]))
        }
        withExtendedLifetime(first) {}
    }
}
