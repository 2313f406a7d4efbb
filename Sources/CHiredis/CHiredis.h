#ifndef C_HIREDIS_H
#define C_HIREDIS_H

// The one C header Swift sees for hiredis (Debian's libhiredis-dev 0.14) and the
// libev loop its replies arrive on. Only the Cluster module imports it; below are
// shims for what Swift's importer cannot take directly (libev's macros).
#include <stdlib.h>
#include <ev.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libev.h>

static inline struct ev_loop *CHiredis_newLoop(void) {
    return ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
}

/// One round: waits for at least one event (a reply, the wake-up, the tick), handles
/// what is ready, returns.
static inline void CHiredis_runOnce(struct ev_loop *loop) {
    ev_run(loop, EVRUN_ONCE);
}

static inline void CHiredis_destroyLoop(struct ev_loop *loop) {
    ev_loop_destroy(loop);
}

/// Ends a round of the loop from another thread (`ev_async_send` is thread-safe, and
/// coalesces while one is pending), and once every `tick` seconds on its own, so the
/// loop's owner can look at its deadlines (heartbeats, request timeouts, reconnects).
struct CHiredis_Wakers {
    ev_async async;
    ev_timer tick;
};

static void CHiredis_woken(struct ev_loop *loop, ev_async *watcher, int events) {
    (void)loop; (void)watcher; (void)events; /* the round ends; the owner drains */
}

static void CHiredis_ticked(struct ev_loop *loop, ev_timer *watcher, int events) {
    (void)loop; (void)watcher; (void)events;
}

static inline struct CHiredis_Wakers *CHiredis_startWakers(struct ev_loop *loop, double tick) {
    struct CHiredis_Wakers *wakers = calloc(1, sizeof(*wakers));
    if (!wakers) return NULL;
    ev_async_init(&wakers->async, CHiredis_woken);
    ev_async_start(loop, &wakers->async);
    ev_timer_init(&wakers->tick, CHiredis_ticked, tick, tick);
    ev_timer_start(loop, &wakers->tick);
    return wakers;
}

static inline void CHiredis_wake(struct ev_loop *loop, struct CHiredis_Wakers *wakers) {
    ev_async_send(loop, &wakers->async);
}

static inline void CHiredis_stopWakers(struct ev_loop *loop, struct CHiredis_Wakers *wakers) {
    ev_async_stop(loop, &wakers->async);
    ev_timer_stop(loop, &wakers->tick);
    free(wakers);
}

/// hiredis's adapter for libev (a static function of its header).
static inline int CHiredis_attach(redisAsyncContext *context, struct ev_loop *loop) {
    return redisLibevAttach(loop, context);
}

/// The reply types as plain ints (they are macros).
static inline int CHiredis_replyString(void) { return REDIS_REPLY_STRING; }
static inline int CHiredis_replyArray(void) { return REDIS_REPLY_ARRAY; }
static inline int CHiredis_replyInteger(void) { return REDIS_REPLY_INTEGER; }
static inline int CHiredis_replyNil(void) { return REDIS_REPLY_NIL; }
static inline int CHiredis_replyStatus(void) { return REDIS_REPLY_STATUS; }
static inline int CHiredis_replyError(void) { return REDIS_REPLY_ERROR; }

#endif
