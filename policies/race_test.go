//go:build race

package policies

// raceEnabled: the race detector multiplies time and memory, so tests
// that measure them skip.
const raceEnabled = true
