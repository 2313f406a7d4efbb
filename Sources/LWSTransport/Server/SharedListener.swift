internal import CWebsockets
import Glibc

/// A listening socket of ours with `SO_REUSEPORT`, one per service thread on the same
/// port, so that the kernel spreads new connections over the threads.
///
/// lws 4.1.6's `LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE` sets only `SO_REUSEADDR` on
/// Linux, so a second context cannot bind the port; each ``LWSServer`` therefore
/// accepts from one of these and adopts the connections into its vhost.
public struct SharedListener: Sendable {
    let descriptor: Int32

    /// - Parameter first: the first thread's: with a fixed port, a plain bind first
    ///   checks that nobody (another process of the same user) listens there already.
    /// - Throws: ``TransportError`` when the address cannot be used.
    public static func open(host: String, port: Int32, first: Bool) throws(TransportError) -> SharedListener {
        let descriptor = CWebsockets_listenShared(host, port, first ? 1 : 0)
        guard descriptor >= 0 else { throw .listenFailed(host: host, port: Int(port)) }
        return SharedListener(descriptor: descriptor)
    }

    /// Closes a listener that no server took.
    public func close() {
        Glibc.close(descriptor)
    }
}
