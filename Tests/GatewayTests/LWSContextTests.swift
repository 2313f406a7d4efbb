import Foundation
import Testing

@testable import Gateway

@Suite(.serialized) struct LWSContextTests {
    /// Opens a TCP connection to prove that something listens on the port.
    private func canConnect(port: Int32) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { return false }
        // With nothing listening on an ephemeral port, Linux may pick that same port as
        // the source and "connect" the socket to itself (TCP simultaneous open).
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return local.sin_port != address.sin_port
    }

    @Test func contextListensOnAFreeLoopbackPortAndReleasesIt() throws {
        let port = try #require(LoopbackPort.free())
        var context: LWSContext? = try LWSContext(
            .init(port: port, protocols: [.httpOnly()])
        )
        #expect(canConnect(port: port))
        context = nil
        #expect(!canConnect(port: port))
    }

    @Test func aPortInUseIsAClearError() throws {
        let port = try #require(LoopbackPort.free())
        let first = try LWSContext(.init(port: port, protocols: [.httpOnly()]))
        #expect(throws: GatewayError.listenFailed(host: "127.0.0.1", port: Int(port))) {
            _ = try LWSContext(.init(port: port, protocols: [.httpOnly()]))
        }
        withExtendedLifetime(first) {}
    }
}
