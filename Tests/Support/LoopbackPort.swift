import Foundation
import Synchronization

/// Finds a TCP port that nothing listens on, for tests that must name a port before a
/// server starts (a child process told `--port`, a PostgreSQL server). Servers in
/// the product bind port 0 themselves and report the port the kernel chose.
///
/// The port is picked *below* the kernel's ephemeral range
/// (`/proc/sys/net/ipv4/ip_local_port_range`). A port from that range (what binding
/// port 0 returns) can be taken again at any moment as the local end of an outgoing
/// connection, and the suite opens thousands at once (load generator tests): CI once
/// lost its PostgreSQL server that way (`pg_ctl: could not start server`, the port
/// held by a client socket). Below the range, only another listener can take it, and
/// this process never hands out the same port twice.
public enum LoopbackPort {
    public static func free(host: String = "127.0.0.1") -> Int32? {
        let upper = ephemeralRangeStart()
        let lower: Int32 = 10_000
        guard upper > lower + 100 else { return kernelChosen(host: host) }
        for _ in 0..<200 {
            let port = Int32.random(in: lower..<upper)
            let fresh = handedOut.withLock { $0.insert(port).inserted }
            if fresh, bindable(port, host: host) { return port }
        }
        return kernelChosen(host: host)
    }

    private static let handedOut = Mutex<Set<Int32>>([])

    /// The first port of the kernel's ephemeral range (32768 when it cannot be read).
    private static func ephemeralRangeStart() -> Int32 {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
              let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first,
              let value = Int32(first)
        else { return 32_768 }
        return value
    }

    /// Whether a listener could bind `port` now (it binds and closes a socket).
    private static func bindable(_ port: Int32, host: String) -> Bool {
        probe(port: port, host: host) != nil
    }

    /// The kernel's choice (port 0), the fallback when the range leaves no room below.
    private static func kernelChosen(host: String) -> Int32? {
        probe(port: 0, host: host)
    }

    /// Binds a socket to `port` on `host` and returns the bound port, or nil.
    private static func probe(port: Int32, host: String) -> Int32? {
        // Close-on-exec: a child spawned meanwhile must not inherit (and hold) it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var reuse: Int32 = 1
        // As a server binds: a port whose old connections linger in TIME_WAIT is free.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
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

/// Starts a server in a fresh temporary directory (`NAME-UUID`) on a free loopback port
/// through `start`. A port found free can still be taken before the server binds it
/// (another test's listener), so a failed start is tried again on other ports, three
/// times in all.
/// - Returns: the directory and the port it runs on.
func startOnFreePort(named name: String, _ start: (URL, Int32) async throws -> Void) async throws -> (directory: URL, port: Int32) {
    var attempt = 1
    while true {
        guard let port = LoopbackPort.free() else { throw TestServerError("no free loopback port") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID())")
        do {
            try await start(directory, port)
            return (directory, port)
        } catch where attempt < 3 {
            try? FileManager.default.removeItem(at: directory)
            attempt += 1
        }
    }
}
