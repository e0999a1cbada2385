//go:build race

package engine_test

// raceEnabled: the race detector's shadow memory multiplies a process's
// RSS, so RSS bounds are not checked in a -race build.
const raceEnabled = true
