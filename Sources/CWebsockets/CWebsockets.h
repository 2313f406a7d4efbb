#ifndef C_WEBSOCKETS_H
#define C_WEBSOCKETS_H

// The one C header Swift sees for libwebsockets. Only the Gateway module imports
// it; everything below is a shim for something Swift's importer cannot take
// directly from <libwebsockets.h>.
#include <libwebsockets.h>

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

/// `lwsl_*` are variadic macros; this sets the level with no log emitter so
/// the library stays quiet unless `LWS_LOG` asks otherwise.
static inline void CWebsockets_setLogLevel(int level) {
    lws_set_log_level(level, NULL);
}

#endif
