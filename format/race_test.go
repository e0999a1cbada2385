//go:build race

package format

// raceEnabled: the race detector slows byte loops tenfold or more, so the
// heaviest tests read their large inputs fewer ways under -race.
const raceEnabled = true
