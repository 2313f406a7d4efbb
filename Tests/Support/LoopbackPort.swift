import Foundation

/// Finds a TCP port that nothing listens on, for tests that must name a port before a
/// server starts (a child process told `--port`, a PostgreSQL server). Servers in
/// the product bind port 0 themselves and report the port the kernel chose.
///
/// The kernel picks the port when a socket binds to port 0; we read it back and
/// close the socket. Another process could take it before the server listens, which
/// is fine for tests on one machine (a failed listen is a clear error).
public enum LoopbackPort {
    public static func free(host: String = "127.0.0.1") -> Int32? {
        // Close-on-exec: a child spawned meanwhile must not inherit (and hold) it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        return bound ? Int32(UInt16(bigEndian: address.sin_port)) : nil
    }
}
