#ifndef C_WEBSOCKETS_H
#define C_WEBSOCKETS_H

// The one C header Swift sees for libwebsockets. Only the Gateway module imports
// it; everything below is a shim for something Swift's importer cannot take
// directly from <libwebsockets.h>.
#include <libwebsockets.h>
#include <ev.h>

/// `LWS_PRE` is a function-like macro in 4.1.6, which Swift does not import.
/// Every buffer handed to `lws_write` needs this many bytes of headroom in
/// front of the payload.
static inline size_t CWebsockets_LWS_PRE(void) {
    return LWS_PRE;
}

/// The server options import as `Int64` while `lws_context_creation_info.options`
/// is `uint64_t`; these keep the casts in C, where the types line up.
static inline uint64_t CWebsockets_serverOptionValidateUTF8(void) {
    return (uint64_t)LWS_SERVER_OPTION_VALIDATE_UTF8;
}

static inline uint64_t CWebsockets_serverOptionDoSSLGlobalInit(void) {
    return (uint64_t)LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
}

static inline uint64_t CWebsockets_serverOptionDisableIPv6(void) {
    return (uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
}

/// Runs the context on libev (epoll) instead of lws's own poll() loop: poll() walks
/// every socket on each wake-up, which at thousands of connections costs more than
/// the work itself. Debian ships the libev glue as a plugin lws loads at runtime.
static inline uint64_t CWebsockets_serverOptionLibev(void) {
    return (uint64_t)LWS_SERVER_OPTION_LIBEV;
}

/// Our own libev loop, handed to lws as a "foreign" loop: lws 4.1.6 runs an internal
/// loop until the context is destroyed, while we need to come back after each round
/// (to stop, and to drain work from other threads). EVFLAG_NOSIGMASK: libev leaves
/// signal masks alone (the processes handle their own signals).
static inline struct ev_loop *CWebsockets_newEventLoop(void) {
    return ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
}

/// One round: waits for at least one event and handles what is ready.
static inline void CWebsockets_runEventLoopOnce(struct ev_loop *loop) {
    ev_run(loop, EVRUN_ONCE);
}

/// Handles what is ready without waiting (used while the context winds down).
static inline void CWebsockets_runEventLoopNoWait(struct ev_loop *loop) {
    ev_run(loop, EVRUN_NOWAIT);
}

static inline void CWebsockets_destroyEventLoop(struct ev_loop *loop) {
    ev_loop_destroy(loop);
}

/// `lwsl_*` are variadic macros; this sets the level with no log emitter so
/// the library stays quiet unless `LWS_LOG` asks otherwise.
static inline void CWebsockets_setLogLevel(int level) {
    lws_set_log_level(level, NULL);
}

#endif
