//go:build race

package tracing

// raceEnabled makes the BKT grid-search tests use a small grid: the race
// detector slows the search about tenfold and finds nothing in it.
const raceEnabled = true
