package swim_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership/swim"
)

// trustSwitch is a key resolver whose verdict on a member can change, as a
// trust store's does when it learns a revocation.
type trustSwitch struct {
	next swim.KeyResolver
	mu   sync.Mutex
	errs map[core.NodeID]error
	// stall, when set for a member, holds its resolutions after their
	// verdict was reached, until release is closed (entered signals one).
	stall map[core.NodeID]*stall
}

type stall struct{ entered, release chan struct{} }

func (s *trustSwitch) set(id core.NodeID, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs[id] = err
}

func (s *trustSwitch) ResolveKey(ctx context.Context, id core.NodeID, credential []byte) (core.PublicKey, error) {
	s.mu.Lock()
	err, st := s.errs[id], s.stall[id]
	s.mu.Unlock()
	key, rerr := s.next.ResolveKey(ctx, id, credential)
	if err != nil {
		key, rerr = nil, err
	}
	if st != nil {
		select {
		case st.entered <- struct{}{}:
		default:
		}
		<-st.release
	}
	return key, rerr
}

// A member whose key the resolver now refuses is declared dead by Recheck
// at once and its records no longer count there, while nodes that still
// trust it keep it alive; a member whose key fails to resolve for a local
// reason is kept; and once the key resolves again the member comes back.
func TestRecheckDeclaresRefusedMembersDead(t *testing.T) {
	const size = 5
	cfg := swim.DefaultLANConfig()
	c := newCluster(t, size, *seedFlag, cfg, nil)
	sw := &trustSwitch{next: c.keys, errs: map[core.NodeID]error{}}
	c.keysOf = func(i int) swim.KeyResolver {
		if i == 0 {
			return sw
		}
		return nil
	}
	c.bootstrap(size)

	dead, err := c.nodes[0].Recheck(context.Background())
	require.NoError(t, err)
	require.Empty(t, dead, "nothing changed: nobody declared dead")

	revoked, unreachable := 4, 3
	sw.set(c.ids[revoked], core.ErrVerification)
	sw.set(c.ids[unreachable], errors.New("registry does not answer"))
	dead, err = c.nodes[0].Recheck(context.Background())
	require.ErrorContains(t, err, "registry does not answer")
	assert.Equal(t, []core.NodeID{c.ids[revoked]}, dead)
	assert.Equal(t, swim.StateDead, c.state(0, revoked), "declared dead at once")
	assert.Equal(t, swim.StateAlive, c.state(0, unreachable), "a local failure condemns nobody")
	sw.set(c.ids[unreachable], nil)

	// The member refutes elsewhere; node 0 refuses its records throughout.
	rejected := c.nodes[0].Stats().Rejected
	c.clock.RunFor(3 * cfg.PushPullInterval)
	assert.NotEqual(t, swim.StateAlive, c.state(0, revoked), "a refused member came back")
	assert.Greater(t, c.nodes[0].Stats().Rejected, rejected, "no record of the refused member reached node 0")
	for _, o := range []int{1, 2, 3} {
		assert.Equal(t, swim.StateAlive, c.state(o, revoked), "node %d, which still trusts the member, lost it", o)
	}
	assert.Equal(t, swim.StateAlive, c.state(0, unreachable))

	// Trusted again: its newer records count and it is alive once more.
	sw.set(c.ids[revoked], nil)
	_, ok := c.runUntil(3*cfg.PushPullInterval, func() bool { return c.state(0, revoked) == swim.StateAlive })
	assert.True(t, ok, "the member did not come back once trusted again")

}

// A lookup that outlasts Recheck's context does not shield a refused member
// checked after it: every member is resolved, and a chain refused before
// any I/O is refused even then.
func TestRecheckRefusesMembersAfterTheContextEnds(t *testing.T) {
	const size = 4
	cfg := swim.DefaultLANConfig()
	c := newCluster(t, size, *seedFlag, cfg, nil)
	revoked := 0 // resolved in ID order: put it last
	for i := range c.ids {
		if bytes.Compare(c.ids[i][:], c.ids[revoked][:]) > 0 {
			revoked = i
		}
	}
	observer := (revoked + 1) % size
	var refusing atomic.Bool
	slow := swim.KeyResolverFunc(func(ctx context.Context, id core.NodeID, credential []byte) (core.PublicKey, error) {
		if refusing.Load() {
			if id == c.ids[revoked] {
				return nil, core.ErrVerification // the chain: no I/O
			}
			<-ctx.Done() // the registry does not answer
			return nil, ctx.Err()
		}
		return c.keys.ResolveKey(ctx, id, credential)
	})
	c.keysOf = func(i int) swim.KeyResolver {
		if i == observer {
			return slow
		}
		return nil
	}
	c.bootstrap(size)
	refusing.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	dead, err := c.nodes[observer].Recheck(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, []core.NodeID{c.ids[revoked]}, dead)
	assert.Equal(t, swim.StateDead, c.state(observer, revoked))
	for i := range size {
		if i != observer && i != revoked {
			assert.Equal(t, swim.StateAlive, c.state(observer, i), "a member whose lookup failed was condemned")
		}
	}
}

// A record whose verification under the old trust is still under way when
// Recheck runs does not bring the refused member back: it is dropped, not
// applied nor remembered as valid.
func TestRecheckDropsRecordsVerifiedUnderTheOldTrust(t *testing.T) {
	const size = 4
	cfg := swim.DefaultLANConfig()
	c := newCluster(t, size, *seedFlag, cfg, nil)
	sw := &trustSwitch{next: c.keys, errs: map[core.NodeID]error{}, stall: map[core.NodeID]*stall{}}
	c.keysOf = func(i int) swim.KeyResolver {
		if i == 0 {
			return sw
		}
		return nil
	}
	c.bootstrap(size)
	revoked := 3
	st := &stall{entered: make(chan struct{}, 1), release: make(chan struct{})}
	sw.mu.Lock()
	sw.stall[c.ids[revoked]] = st
	sw.mu.Unlock()
	meta := swim.Meta{Zone: "moved", Weight: 2, Addr: c.addr(revoked)}
	require.NoError(t, c.nodes[revoked].UpdateMeta(meta)) // a new alive record, still trusted

	ran := make(chan struct{})
	go func() {
		defer close(ran)
		c.clock.RunFor(5 * time.Second)
	}()
	select {
	case <-st.entered: // node 0 verified the new record under the old trust
	case <-time.After(10 * time.Second):
		t.Fatal("node 0 never resolved the member's new record")
	}
	sw.mu.Lock()
	delete(sw.stall, c.ids[revoked]) // only the resolution under way waits
	sw.mu.Unlock()
	sw.set(c.ids[revoked], core.ErrVerification)
	dead, err := c.nodes[0].Recheck(context.Background())
	close(st.release)
	require.NoError(t, err)
	assert.Equal(t, []core.NodeID{c.ids[revoked]}, dead)
	<-ran

	assert.NotEqual(t, swim.StateAlive, c.state(0, revoked), "a record verified under the old trust brought the member back")
	c.clock.RunFor(3 * cfg.PushPullInterval)
	assert.NotEqual(t, swim.StateAlive, c.state(0, revoked))
	m, _ := c.nodes[0].Member(c.ids[revoked])
	assert.NotEqual(t, "moved", m.Meta.Zone)
}
