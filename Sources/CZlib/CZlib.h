#ifndef C_ZLIB_H
#define C_ZLIB_H

// Debian's zlib (zlib1g-dev) for the gateway's zlib-stream transport compression.
#include <zlib.h>

/// `deflateInit2` and `inflateInit` are macros (they pass the library's version and
/// the stream's size for a check), which Swift does not import.
static inline int CZlib_deflateInit2(z_streamp stream, int level, int windowBits, int memLevel) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}

static inline int CZlib_inflateInit(z_streamp stream) {
    return inflateInit(stream);
}

#endif
