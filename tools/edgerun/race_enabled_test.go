//go:build race

package main

// raceEnabled thins out slow exhaustive tests under the race detector,
// which finds nothing in them (they are single-goroutine).
const raceEnabled = true
