#ifndef C_MALLOC_H
#define C_MALLOC_H

// glibc's malloc tuning (`mallopt`), which Swift's Glibc module does not export.
#include <malloc.h>

#endif
