//go:build race && (amd64 || arm64) && gc && !noasm && !purego

package kernel

import (
	"runtime"
	"unsafe"
)

// The race detector cannot see memory that assembly touches: tell it.

func raceRead[T any](s []T) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), len(s)*int(unsafe.Sizeof(s[0])))
	}
}

func raceWrite[T any](s []T) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), len(s)*int(unsafe.Sizeof(s[0])))
	}
}
