import Foundation
internal import CWebsockets

/// A plain TCP connection to an IPv4 address, for the small HTTP client the load
/// generator and the tests use.
package enum LoopbackSocket {
    /// The connected socket (the caller closes it), or nil when nothing listens (or
    /// `host` is not an IPv4 address).
    ///
    /// With nothing listening on an ephemeral port, Linux may pick that same port as the
    /// source and "connect" the socket to itself (TCP simultaneous open): that counts as
    /// nothing listening.
    package static func connect(host: String = "127.0.0.1", port: Int32) -> Int32? {
        // Close-on-exec: a child spawned meanwhile must not inherit (and hold) it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            close(fd)
            return nil
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard connected, local.sin_port != address.sin_port else {
            close(fd)
            return nil
        }
        return fd
    }
}
