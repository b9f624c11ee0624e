package swim_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/sim"
	"github.com/snowmerak/clustering/membership/swim"
)

func TestShutdownStopsEveryTimer(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 5, *seedFlag, swim.DefaultLANConfig(), nil)
	c.bootstrap(5)
	c.net.Crash(c.ids[4]) // leave suspicions and probes in flight
	c.clock.RunFor(3 * time.Second)
	require.Greater(t, c.clock.Pending(), 0)

	for _, n := range c.nodes {
		n.Shutdown()
		n.Shutdown() // idempotent
	}
	require.Equal(t, c.net.InFlight(), c.clock.Pending(), "after Shutdown only datagrams in flight may remain scheduled")
	c.clock.RunFor(time.Hour)
	require.Zero(t, c.clock.Pending(), "a shut-down node scheduled more work")

	_, err := c.eps[0].Request(context.Background(), c.peer(1), []byte{1, 18, 0, 0})
	require.ErrorIs(t, err, core.ErrClosed, "a shut-down node must refuse requests")
	_, err = c.nodes[0].Join(context.Background(), []core.Peer{c.peer(1)})
	require.ErrorIs(t, err, core.ErrClosed)
	require.Len(t, c.nodes[0].Members(), 5, "the last view stays readable")
}

func TestEventsArriveInOrderAndMayCallTheNode(t *testing.T) {
	t.Parallel()
	const n = 16
	c := newCluster(t, n, *seedFlag, swim.DefaultLANConfig(), nil)
	mismatches := 0
	c.onEvent = func(i int, ev swim.Event) {
		// The callback runs without the node's lock: it may call the node,
		// and what it reads agrees with the event.
		m, ok := c.nodes[i].Member(ev.Member.ID)
		if ev.Kind == swim.EventReap {
			ok = !ok
		}
		if !ok || (ev.Kind != swim.EventReap && m.State != ev.Member.State) {
			mismatches++
		}
	}
	c.bootstrap(n)
	c.net.SetDefaultLink(sim.Link{Loss: 0.2, Latency: lanLink.Latency})
	c.net.Crash(c.ids[3])
	c.clock.RunFor(2 * time.Minute)
	c.net.Restore(c.ids[3])
	c.net.SetDefaultLink(lanLink)
	c.clock.RunFor(2 * time.Minute)

	require.Zero(t, mismatches)
	require.NotEmpty(t, c.eventsAbout(3, swim.EventDead))
	// Per observer and subject, each event starts where the previous ended.
	last := map[[2]int]swim.State{}
	for _, o := range c.events {
		key := [2]int{o.observer, c.index(o.ev.Member.ID)}
		require.Equal(t, last[key], o.ev.Previous, "observer %d, member %d: %v event after state %v", key[0], key[1], o.ev.Kind, last[key])
		last[key] = o.ev.Member.State
		if o.ev.Kind == swim.EventReap {
			last[key] = 0
		}
	}
}

func TestMetadataUpdateReachesEveryMember(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 16, *seedFlag, swim.DefaultLANConfig(), nil)
	c.bootstrap(16)
	before, _ := c.nodes[3].Member(c.ids[3])
	meta := swim.Meta{Region: "eu", Zone: "eu-2", Rack: "r9", Weight: 4, Addr: c.addr(3), Labels: map[string]string{"role": "storage"}}
	require.NoError(t, c.nodes[3].UpdateMeta(meta))

	others := slices.DeleteFunc(c.indices(16), func(i int) bool { return i == 3 })
	_, ok := c.runUntil(c.cfg.DisseminationBound(16), func() bool {
		for _, i := range others {
			m, _ := c.nodes[i].Member(c.ids[3])
			if !m.Meta.Equal(meta) {
				return false
			}
		}
		return true
	})
	require.True(t, ok, "the new metadata did not reach everyone")
	require.Len(t, c.eventsAbout(3, swim.EventUpdate), 15)
	after, _ := c.nodes[0].Member(c.ids[3])
	require.Greater(t, after.Incarnation, before.Incarnation)
	require.Equal(t, swim.StateAlive, after.State)

	require.ErrorIs(t, c.nodes[3].UpdateMeta(swim.Meta{Weight: -1}), core.ErrInvalidInput)
}

func TestMembersListsEveryoneSortedWithSelf(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 8, *seedFlag, swim.DefaultLANConfig(), nil)
	c.bootstrap(8)
	c.clock.RunFor(20 * time.Second) // a full probe round measures every RTT
	ms := c.nodes[2].Members()
	require.Len(t, ms, 8)
	require.True(t, slices.IsSortedFunc(ms, func(a, b swim.MemberState) int { return slices.Compare(a.ID[:], b.ID[:]) }))
	for _, m := range ms {
		require.Equal(t, swim.StateAlive, m.State)
		require.Equal(t, c.addr(c.index(m.ID)), m.Meta.Addr)
		if m.ID != c.ids[2] {
			// Two one-way trips of 0.2–0.5 ms each.
			require.True(t, m.RTT >= 400*time.Microsecond && m.RTT < time.Millisecond, "RTT %v for %s", m.RTT, m.ID.Short())
		}
	}
	ms[0].Meta.Labels = map[string]string{"mutated": "yes"}
	require.Nil(t, c.nodes[2].Members()[0].Meta.Labels, "Members returns copies")
}

func TestJoinErrors(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 3, *seedFlag, swim.DefaultLANConfig(), nil)
	n := c.start(0)
	c.start(1)
	c.net.Crash(c.ids[1])

	got, err := n.Join(context.Background(), []core.Peer{c.peer(1), {Addr: c.addr(2)}})
	require.Zero(t, got)
	require.ErrorIs(t, err, sim.ErrUnreachable, "no seed answered")

	got, err = n.Join(context.Background(), []core.Peer{c.peer(0)})
	require.NoError(t, err, "joining only itself is not an error")
	require.Zero(t, got)

	c.net.Restore(c.ids[1])
	got, err = n.Join(context.Background(), []core.Peer{c.peer(1), {Addr: c.addr(2)}})
	require.NoError(t, err, "one seed answering is enough")
	require.Equal(t, 1, got)
}

func TestNewRejectsBadArguments(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 1, 1, swim.DefaultLANConfig(), nil)
	cfg := swim.DefaultLANConfig()
	_, err := swim.New(cfg, nil, c.clock)
	require.ErrorIs(t, err, core.ErrInvalidInput)
	cfg.Signer, cfg.Keys = c.signers[0], c.keys
	_, err = swim.New(cfg, nil, c.clock)
	require.ErrorIs(t, err, core.ErrInvalidInput)
}

func TestLeftMemberRejoinsWithAHigherIncarnation(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 8, *seedFlag, swim.DefaultLANConfig(), nil)
	c.bootstrap(8)
	require.NoError(t, c.nodes[5].Leave(context.Background()))
	require.NoError(t, c.nodes[5].Leave(context.Background()), "leaving twice is fine")
	require.ErrorIs(t, c.nodes[5].UpdateMeta(swim.Meta{}), core.ErrClosed)
	_, ok := c.runUntil(time.Minute, func() bool { return c.allSee(c.indices(5), []int{5}, swim.StateLeft) })
	require.True(t, ok)
	c.nodes[5].Shutdown()

	// The process restarts later: its clock-based incarnation outranks the leave.
	c.clock.RunFor(time.Minute)
	c.start(5)
	_, err := c.nodes[5].Join(context.Background(), []core.Peer{c.peer(0)})
	require.NoError(t, err)
	_, ok = c.runUntil(time.Minute, func() bool { return c.allSee(c.indices(8), []int{5}, swim.StateAlive) })
	require.True(t, ok, "the restarted member was not seen alive again")
	require.NotEmpty(t, c.eventsAbout(5, swim.EventJoin))
}

func TestLeaveWithNobodyToTellSucceeds(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 1, 1, swim.DefaultLANConfig(), nil)
	n := c.start(0)
	require.NoError(t, n.Leave(context.Background()))
	self, _ := n.Member(c.ids[0])
	require.Equal(t, swim.StateLeft, self.State)
}

func TestLeaveFailsWhenNoMemberTakesTheRecord(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 3, 1, swim.DefaultLANConfig(), nil)
	c.bootstrap(3)
	c.net.Crash(c.ids[0])
	err := c.nodes[0].Leave(context.Background())
	require.Error(t, err)
	require.True(t, errors.Is(err, sim.ErrUnreachable))
}
