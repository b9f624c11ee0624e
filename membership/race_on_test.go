//go:build race

package membership_test

// Under -race hashing is many times slower: tests that loop over keys use
// fewer, and small tables; stats_test.go (not built with -race) runs the
// full-size statistics.
const (
	loopKeys   = 2000
	smallTable = 1 << 13
)
