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

/// A listening socket of ours (SO_REUSEPORT, so that every service thread has one on
/// the same port and the kernel spreads new connections over them), bound to
/// `host`:`port` (0: a free port). lws 4.1.6 sets only SO_REUSEADDR on its own
/// listeners, even with LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE (that option changes
/// Windows' exclusive-bind flag), so a second context cannot listen on the port.
/// `exclusive`: first check that nothing listens on the port (for the first thread's
/// socket; the others join it).
/// - Returns: the socket, or -1 (errno says why).
static inline int CWebsockets_listenShared(const char *host, int port, int exclusive) {
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo(host, service, &hints, &found) != 0 || !found) return -1;
    int on = 1;
    if (exclusive && port != 0) {
        /* SO_REUSEPORT would let this process join another's listeners on the port (the
           same user's): a plain bind first, which fails while anyone listens there. */
        int probe = socket(found->ai_family, SOCK_STREAM, 0);
        int taken = probe < 0
            || setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
            || bind(probe, found->ai_addr, found->ai_addrlen) < 0;
        int saved = errno;
        if (probe >= 0) close(probe);
        if (taken) {
            freeaddrinfo(found);
            errno = saved;
            return -1;
        }
    }
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0
        || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
        || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0
        || bind(fd, found->ai_addr, found->ai_addrlen) < 0
        || listen(fd, 4096) < 0) {
        int saved = errno;
        if (fd >= 0) close(fd);
        freeaddrinfo(found);
        errno = saved;
        return -1;
    }
    freeaddrinfo(found);
    return fd;
}

/// The port a socket is bound to (0 if unknown).
static inline int CWebsockets_boundPort(int fd) {
    struct sockaddr_storage address;
    socklen_t length = sizeof(address);
    if (getsockname(fd, (struct sockaddr *)&address, &length) < 0) return 0;
    if (address.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&address)->sin_port);
    if (address.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
    return 0;
}

/// Accepts on a listening socket of ours from a service thread's libev loop and hands
/// each connection to that thread's lws vhost, as if lws had accepted it.
struct CWebsockets_Acceptor {
    ev_io watcher;  /* first: the callback casts the watcher back to the acceptor */
    /* Out of descriptors: accepting pauses this long, instead of the level-triggered
       watcher firing again at once for a connection it cannot take (a busy loop). */
    ev_timer pause;
    struct lws_vhost *vhost;
    int tls;
};

static void CWebsockets_acceptResume(struct ev_loop *loop, ev_timer *timer, int events) {
    (void)events;
    struct CWebsockets_Acceptor *acceptor = (struct CWebsockets_Acceptor *)((char *)timer - offsetof(struct CWebsockets_Acceptor, pause));
    ev_io_start(loop, &acceptor->watcher);
}

static void CWebsockets_acceptReady(struct ev_loop *loop, ev_io *watcher, int events) {
    (void)events;
    struct CWebsockets_Acceptor *acceptor = (struct CWebsockets_Acceptor *)watcher;
    /* A bounded batch per wake-up, so one busy listener does not starve the loop. */
    for (int taken = 0; taken < 64; taken++) {
        int fd = accept(watcher->fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                ev_io_stop(loop, &acceptor->watcher);
                ev_timer_set(&acceptor->pause, 0.1, 0.);
                ev_timer_start(loop, &acceptor->pause);
            }
            return; /* EAGAIN: none left */
        }
        lws_sock_file_fd_type descriptor;
        descriptor.sockfd = fd;
        int type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | (acceptor->tls ? LWS_ADOPT_ALLOW_SSL : 0);
        /* On failure lws has closed the socket itself. */
        (void)lws_adopt_descriptor_vhost(acceptor->vhost, (lws_adoption_type)type, descriptor, NULL, NULL);
    }
}

/// Starts accepting on `fd` (ours, from `CWebsockets_listenShared`) into `context`'s
/// default vhost, on the context's libev loop. Call on the context's thread.
static inline struct CWebsockets_Acceptor *CWebsockets_startAcceptor(struct ev_loop *loop, int fd, struct lws_context *context, int tls) {
    struct lws_vhost *vhost = lws_get_vhost_by_name(context, "default");
    if (!vhost) return NULL;
    struct CWebsockets_Acceptor *acceptor = calloc(1, sizeof(*acceptor));
    if (!acceptor) return NULL;
    acceptor->vhost = vhost;
    acceptor->tls = tls;
    ev_init(&acceptor->pause, CWebsockets_acceptResume);
    ev_io_init(&acceptor->watcher, CWebsockets_acceptReady, fd, EV_READ);
    ev_io_start(loop, &acceptor->watcher);
    return acceptor;
}

/// Stops accepting and closes the listening socket. Call on the context's thread.
static inline void CWebsockets_stopAcceptor(struct ev_loop *loop, struct CWebsockets_Acceptor *acceptor) {
    ev_io_stop(loop, &acceptor->watcher);
    ev_timer_stop(loop, &acceptor->pause);
    close(acceptor->watcher.fd);
    free(acceptor);
}

/// Wakes a service thread from another thread: libev's `ev_async` on the context's own
/// loop. `ev_async_send` is safe from any thread, never loses a wake-up, and costs no
/// system call while one is already pending (libev coalesces them). The service thread
/// drains its inbox after every round of its loop.
struct CWebsockets_Waker {
    ev_async watcher;
};

static void CWebsockets_wakerFired(struct ev_loop *loop, ev_async *watcher, int events) {
    (void)loop;
    (void)watcher;
    (void)events; /* nothing to do here: the round of the loop ends, and the thread drains */
}

static inline struct CWebsockets_Waker *CWebsockets_startWaker(struct ev_loop *loop) {
    struct CWebsockets_Waker *waker = calloc(1, sizeof(*waker));
    if (!waker) return NULL;
    ev_async_init(&waker->watcher, CWebsockets_wakerFired);
    ev_async_start(loop, &waker->watcher);
    return waker;
}

static inline void CWebsockets_wake(struct ev_loop *loop, struct CWebsockets_Waker *waker) {
    ev_async_send(loop, &waker->watcher);
}

static inline void CWebsockets_stopWaker(struct ev_loop *loop, struct CWebsockets_Waker *waker) {
    ev_async_stop(loop, &waker->watcher);
    free(waker);
}

/// `lwsl_*` are variadic macros; this sets the level with no log emitter so
/// the library stays quiet unless `LWS_LOG` asks otherwise.
static inline void CWebsockets_setLogLevel(int level) {
    lws_set_log_level(level, NULL);
}

#endif
