package swim_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership/swim"
)

func TestSimPartitionOfAThirdHealsAndViewsConverge(t *testing.T) {
	t.Parallel()
	const n = 64
	cfg := swim.DefaultLANConfig()
	c := newCluster(t, n, *seedFlag, cfg, nil)
	c.bootstrap(n)

	all := c.indices(n)
	minority, majority := all[:n/3], all[n/3:]
	ids := func(idx []int) []core.NodeID {
		var out []core.NodeID
		for _, i := range idx {
			out = append(out, c.ids[i])
		}
		return out
	}
	c.net.Partition(ids(minority), ids(majority))
	bound := cfg.DetectionBound(n)
	_, ok := c.runUntil(bound, func() bool {
		return c.allSee(minority, majority, swim.StateDead) && c.allSee(majority, minority, swim.StateDead)
	})
	require.True(t, ok, "the two sides did not declare each other dead within %v", bound)
	require.True(t, c.allSee(minority, minority, swim.StateAlive) && c.allSee(majority, majority, swim.StateAlive), "a side lost members of its own")

	c.net.Heal()
	healedAt := c.clock.Now().Sub(epoch)
	took, ok := c.runUntil(5*cfg.ReconnectInterval, func() bool {
		if !c.allSee(all, all, swim.StateAlive) {
			return false
		}
		first := c.viewDigest(0)
		for i := 1; i < n; i++ {
			if !bytes.Equal(first, c.viewDigest(i)) {
				return false
			}
		}
		return true
	})
	require.True(t, ok, "views did not converge within %v of healing", 5*cfg.ReconnectInterval)
	var deadAfter int
	for _, o := range c.events {
		if o.ev.Kind == swim.EventDead && o.at > healedAt {
			deadAfter++
		}
	}
	require.Zero(t, deadAfter, "no member may be declared dead after the partition heals")
	t.Logf("N=%d, partition %d|%d: views identical and all alive %v after healing (ReconnectInterval %v), no dead verdicts after the heal",
		n, len(minority), len(majority), took, cfg.ReconnectInterval)
}

func TestSimJoiningNodeIsKnownToAllWithinBound(t *testing.T) {
	t.Parallel()
	const n = 64
	cfg := swim.DefaultLANConfig()
	c := newCluster(t, n+1, *seedFlag, cfg, nil)
	c.bootstrap(n)

	joiner := n
	c.start(joiner)
	got, err := c.nodes[joiner].Join(context.Background(), []core.Peer{{Addr: c.addr(7)}}) // seed known by address only
	require.NoError(t, err)
	require.Equal(t, 1, got)
	require.Len(t, c.nodes[joiner].Members(), n+1, "the joiner learns the whole membership from one seed")

	bound := cfg.DisseminationBound(n + 1)
	took, ok := c.runUntil(bound, func() bool { return c.allSee(c.indices(n), []int{joiner}, swim.StateAlive) })
	require.True(t, ok, "not every member knew the joiner within %v", bound)
	require.Len(t, c.eventsAbout(joiner, swim.EventJoin), n, "every member reports the join once")
	t.Logf("N=%d: a joining node was known alive to all in %v (bound %v)", n, took, bound)
}

func TestSimLeavingNodeIsSeenAsLeftNotDead(t *testing.T) {
	t.Parallel()
	const n = 64
	cfg := swim.DefaultLANConfig()
	c := newCluster(t, n, *seedFlag, cfg, nil)
	c.bootstrap(n)

	leaver := 5
	require.NoError(t, c.nodes[leaver].Leave(context.Background()))
	others := slices.DeleteFunc(c.indices(n), func(i int) bool { return i == leaver })
	bound := cfg.DisseminationBound(n)
	took, ok := c.runUntil(bound, func() bool { return c.allSee(others, []int{leaver}, swim.StateLeft) })
	require.True(t, ok, "not every member saw the departure within %v", bound)
	c.nodes[leaver].Shutdown()
	c.eps[leaver].Detach()

	c.clock.RunFor(cfg.DetectionBound(n))
	require.Len(t, c.eventsAbout(leaver, swim.EventLeave), n-1)
	require.Empty(t, c.eventsAbout(leaver, swim.EventDead), "a departed member must not be declared dead")
	require.Empty(t, c.eventsAbout(leaver, swim.EventSuspect), "a departed member must not be suspected")
	require.True(t, c.allSee(others, []int{leaver}, swim.StateLeft))
	t.Logf("N=%d: a departure was seen by all in %v (bound %v)", n, took, bound)
}

func TestSimFalseSuspicionIsRefuted(t *testing.T) {
	t.Parallel()
	const n = 64
	cfg := swim.DefaultLANConfig()
	c := newCluster(t, n, *seedFlag, cfg, nil)
	c.bootstrap(n)

	victim := 9
	before, _ := c.nodes[0].Member(c.ids[victim])
	c.net.Crash(c.ids[victim])
	others := slices.DeleteFunc(c.indices(n), func(i int) bool { return i == victim })
	_, ok := c.runUntil(time.Minute, func() bool { return len(c.eventsAbout(victim, swim.EventSuspect)) > 0 })
	require.True(t, ok, "nobody suspected the isolated member")
	c.net.Restore(c.ids[victim])

	took, ok := c.runUntil(cfg.DisseminationBound(n)+cfg.ProbeInterval, func() bool { return c.allSee(others, []int{victim}, swim.StateAlive) })
	require.True(t, ok, "the refutation did not reach everyone")
	c.clock.RunFor(time.Minute)
	require.Empty(t, c.eventsAbout(victim, swim.EventDead), "a refuted suspicion must not turn into a dead verdict")
	require.GreaterOrEqual(t, c.nodes[victim].Stats().Refutations, int64(1))
	for _, i := range others {
		m, _ := c.nodes[i].Member(c.ids[victim])
		require.Equal(t, swim.StateAlive, m.State)
		require.Greater(t, m.Incarnation, before.Incarnation, "member %d holds no refutation", i)
	}
	t.Logf("N=%d: suspected by %d members, refuted and alive everywhere %v after the member came back", n, len(c.eventsAbout(victim, swim.EventSuspect)), took)
}

// Tombstones end: a member gone for good is forgotten by everyone after
// TombstoneTimeout, not passed back and forth between members that reap it
// at slightly different times.
func TestSimGoneMemberIsForgottenAfterTombstoneTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		remove func(c *cluster, i int)
	}{
		{"after a leave", func(c *cluster, i int) {
			require.NoError(c.t, c.nodes[i].Leave(context.Background()))
			c.clock.RunFor(time.Second)
			c.nodes[i].Shutdown()
			c.eps[i].Detach()
		}},
		{"after a crash", func(c *cluster, i int) { c.net.Crash(c.ids[i]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 16
			cfg := swim.DefaultLANConfig()
			cfg.TombstoneTimeout = 2 * time.Minute
			cfg.PushPullInterval = 5 * time.Second
			c := newCluster(t, n, *seedFlag, cfg, nil)
			c.bootstrap(n)
			gone := n - 1
			tc.remove(c, gone)
			_, ok := c.runUntil(4*cfg.TombstoneTimeout, func() bool {
				for i := range n - 1 {
					if _, known := c.nodes[i].Member(c.ids[gone]); known {
						return false
					}
				}
				return true
			})
			require.True(t, ok, "the gone member is still remembered after 4×TombstoneTimeout")
			c.clock.RunFor(cfg.TombstoneTimeout)
			for i := range n - 1 {
				_, known := c.nodes[i].Member(c.ids[gone])
				require.False(t, known, "member %d learnt the gone member again", i)
			}
		})
	}
}
