//go:build !race

package e2e

// raceEnabled makes TestMain build moxi with -race when the tests run with it.
const raceEnabled = false
