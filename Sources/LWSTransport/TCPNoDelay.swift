internal import CWebsockets
import Glibc

/// Small frames go out at once: Nagle's algorithm would hold one back until the
/// previous is acknowledged (milliseconds per event at low rates). For the server's
/// connections, whichever way they were accepted, and the client's.
func disableNagle(_ wsi: OpaquePointer) {
    var on: Int32 = 1
    setsockopt(lws_get_socket_fd(wsi), Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
}
