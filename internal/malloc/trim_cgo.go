//go:build linux && cgo

package malloc

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

// trim calls glibc's malloc_trim(0) when the C library has it (musl does not): -1 when absent.
static int trim(void) {
	int (*f)(size_t) = (int (*)(size_t))dlsym(RTLD_DEFAULT, "malloc_trim");
	return f ? f(0) : -1;
}
*/
import "C"

import "os"

// Trim returns the C heap's free pages to the operating system (glibc's malloc_trim(0)); it reports
// whether it did (false without glibc, or with NETI_NO_TRIM set, which measures what it saves).
func Trim() bool {
	if os.Getenv("NETI_NO_TRIM") != "" {
		return false
	}
	return C.trim() >= 0
}
