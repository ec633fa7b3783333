//go:build race

package main

// raceEnabled: the test binary was built with -race (builds the tests make
// of graceful reuse its compiled packages).
const raceEnabled = true
