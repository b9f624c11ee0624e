package swim_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/membership/swim"
)

// crashRun crashes one member of a converged cluster of size n and returns,
// for every live member, how long after the crash it declared the member dead.
func crashRun(t *testing.T, n int, seed int64) (detect []time.Duration, msgs, bytes float64, bound time.Duration) {
	cfg := swim.DefaultLANConfig()
	c := newCluster(t, n, seed, cfg, nil)
	c.bootstrap(n)

	m := c.meter()
	c.clock.RunFor(30 * time.Second)
	msgs, bytes = c.rates(m, n)

	victim := n / 2
	live := slices.DeleteFunc(c.indices(n), func(i int) bool { return i == victim })
	crashAt := c.clock.Now().Sub(epoch)
	c.net.Crash(c.ids[victim])
	bound = cfg.DetectionBound(n)
	_, ok := c.runUntil(bound, func() bool { return c.allSee(live, []int{victim}, swim.StateDead) })
	require.True(t, ok, "not every live member declared the crashed member dead within %v", bound)

	first := map[int]time.Duration{}
	for _, o := range c.eventsAbout(victim, swim.EventDead) {
		if _, seen := first[o.observer]; !seen {
			first[o.observer] = o.at - crashAt
		}
	}
	for _, i := range live {
		d, ok := first[i]
		require.True(t, ok, "member %d has no dead event for the victim", i)
		detect = append(detect, d)
	}
	for _, i := range live {
		for j := range n {
			if j != i && j != victim {
				require.Equal(t, swim.StateAlive, c.state(i, j), "member %d sees live member %d as %v", i, j, c.state(i, j))
			}
		}
	}
	return detect, msgs, bytes, bound
}

func TestSimCrashedMemberIsDeclaredDeadByAllWithinBound(t *testing.T) {
	t.Parallel()
	for _, n := range []int{20, 64} {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			detect, msgs, bytes, bound := crashRun(t, n, *seedFlag)
			t.Logf("N=%d LAN: detection median %v, max %v (bound %v); steady state %.1f msgs and %.0f bytes per node per second; memberlist measured 8.6 s (N=20, LAN)",
				n, median(detect).Round(time.Millisecond), slices.Max(detect).Round(time.Millisecond), bound, msgs, bytes)
		})
	}
}
