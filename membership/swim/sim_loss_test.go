package swim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest/sim"
	"github.com/snowmerak/clustering/membership/swim"
)

func TestSimUniformLossCausesNoFalseDeadVerdicts(t *testing.T) {
	t.Parallel()
	const n, loss = 64, 0.10
	duration := 10 * time.Minute
	seeds := []int64{*seedFlag}
	if *longFlag {
		seeds = append(seeds, *seedFlag+1, *seedFlag+2, *seedFlag+3)
	}
	for _, seed := range seeds {
		c := newCluster(t, n, seed, swim.DefaultLANConfig(), nil)
		c.bootstrap(n)
		c.net.SetDefaultLink(sim.Link{Loss: loss, Latency: lanLink.Latency, Jitter: lanLink.Jitter})
		m := c.meter()
		c.clock.RunFor(duration)
		msgs, bytes := c.rates(m, n)

		var suspicions, refutations int64
		for i := range n {
			require.Empty(t, c.eventsAbout(i, swim.EventDead), "member %d was declared dead at %.0f%% loss", i, loss*100)
			st := c.nodes[i].Stats()
			suspicions += st.Accusations
			refutations += st.Refutations
		}
		c.net.SetDefaultLink(lanLink)
		_, ok := c.runUntil(time.Minute, func() bool { return c.allSee(c.indices(n), c.indices(n), swim.StateAlive) })
		require.True(t, ok, "views did not settle to all-alive after the loss ended")
		t.Logf("seed %d, N=%d, %.0f%% loss for %v: 0 dead verdicts, %d accusations signed, %d refutations, %d suspect events; %.1f msgs and %.0f bytes per node per second",
			seed, n, loss*100, duration, suspicions, refutations, countKind(c, swim.EventSuspect), msgs, bytes)
	}
}

func countKind(c *cluster, k swim.EventKind) int {
	n := 0
	for _, o := range c.events {
		if o.ev.Kind == k {
			n++
		}
	}
	return n
}
