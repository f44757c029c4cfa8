//go:build !linux || !cgo

package malloc

// Trim does nothing here: returning freed C heap pages is glibc's malloc_trim, on Linux with cgo.
func Trim() bool { return false }
