package integration_test

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Flags of the suite (see README.md).
var (
	seedFlag = flag.Int64("seed", 0, "first scenario seed (0: derived from the clock); run i uses seed+i")
	runsFlag = flag.Int("runs", 1, "how many seeds each scenario runs with")
	soakFlag = flag.Bool("soak", false, "run the issue's full sizes: 64 MiB transfers, a 10 s partition, a long rekeying transfer")
)

// leakOptions ignores kcp-go's package-level timer scheduler, which lives as
// long as the process; every other goroutine must be gone after shutdown.
var leakOptions = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).sched"),
	goleak.IgnoreTopFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).prepend"),
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, leakOptions...) }

// forEachSeed runs a scenario once per seed (-runs of them), each as a
// subtest named after its seed, so that a failure names the seed that
// reproduces it: go test -run 'TestName/seed=N' -seed=N.
func forEachSeed(t *testing.T, scenario func(t *testing.T, seed int64)) {
	t.Helper()
	base := *seedFlag
	if base == 0 {
		base = time.Now().UnixNano() % 1_000_000_000
	}
	for i := range max(*runsFlag, 1) {
		seed := base + int64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("seed %d", seed)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("FAILED with seed %d; reproduce: go test -run '^%s$' -seed=%d", seed, t.Name(), seed)
				}
			})
			scenario(t, seed)
		})
	}
}

// sized returns the soak size when -soak is set, else the default.
func sized[T any](normal, soak T) T {
	if *soakFlag {
		return soak
	}
	return normal
}
