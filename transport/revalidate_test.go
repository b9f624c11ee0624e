package transport

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/pki"
)

// revokeLeaf installs, in trust, a revocation list of p's root that revokes
// the leaf of id.
func revokeLeaf(t *testing.T, p *pair, trust *pki.TrustStore, id Identity) {
	t.Helper()
	leaf, err := pki.ParseCertificate(id.Chain[0], p.a.schemes)
	require.NoError(t, err)
	rl, err := pki.CreateRevocationList(1, testNow, []pki.RevocationEntry{pki.RevokeCertificate(leaf, p.pki.inter, testNow, "key compromise")}, p.pki.root, p.pki.rootKey)
	require.NoError(t, err)
	require.NoError(t, trust.AddRevocationList(rl, nil, testNow))
}

// waitDone waits for s to end.
func waitDone(t *testing.T, s *Session) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session still open")
	}
}

// A peer revoked after its session was made loses the session as soon as
// Revalidate runs, not at the next rekey; the peer is told, and a new
// handshake is refused.
func TestRevalidateClosesSessionOfRevokedPeer(t *testing.T) {
	var trustA *pki.TrustStore
	p := newPair(t, func(name string, c *Config) {
		if name == "a" {
			trustA = c.Policy.Trust
		}
	})
	sa, sb := p.connect(t)
	n, err := p.a.Revalidate(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "nothing changed: nothing closed")
	require.NoError(t, sa.Err())

	revokeLeaf(t, p, trustA, p.bID)
	n, err = p.a.Revalidate(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	waitDone(t, sa)
	assert.ErrorIs(t, sa.Err(), ErrNoLongerTrusted)
	assert.ErrorIs(t, sa.Err(), ErrRefused)
	assert.ErrorIs(t, sa.Err(), pki.ErrRevoked)
	assert.Contains(t, sa.Err().Error(), ReasonRevoked.String())
	waitDone(t, sb)
	assert.ErrorIs(t, sb.Err(), ErrPeerClosed)
	assert.Zero(t, p.a.Metrics().Sessions)

	_, err = p.b.Dial(ctxT(t, 5*time.Second), addrA)
	var herr *HandshakeError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, ReasonRevoked, herr.Reason)
}

// Only the sessions whose peer fails are closed; a member deleted from the
// allow-list is one.
func TestRevalidateKeepsPeersThatStillPass(t *testing.T) {
	p := newPair(t, nil)
	c := listen(t, p.net, "10.0.0.3:7000", testConfig(p.pki.node(t, "node-c"), PeerPolicy{Trust: p.pki.trust()}, p.clk))
	repo := newMemberRepo(p.b.NodeID(), c.NodeID())
	a := listen(t, p.net, "10.0.0.4:7000", testConfig(p.pki.node(t, "node-d"), PeerPolicy{Trust: p.pki.trust(), Members: repo}, p.clk))
	toB, err := a.Dial(ctxT(t, 5*time.Second), addrB)
	require.NoError(t, err)
	toC, err := a.Dial(ctxT(t, 5*time.Second), "10.0.0.3:7000")
	require.NoError(t, err)

	_, err = repo.Delete(context.Background(), c.NodeID(), core.AnyRevision)
	require.NoError(t, err)
	n, err := a.Revalidate(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	waitDone(t, toC)
	assert.ErrorIs(t, toC.Err(), ErrNoLongerTrusted)
	assert.ErrorIs(t, toC.Err(), core.ErrNotFound)
	assert.Contains(t, toC.Err().Error(), ReasonNotAllowed.String())

	require.NoError(t, toB.Err(), "a peer that still passes keeps its session")
	require.NoError(t, toB.Send(ctxT(t, 5*time.Second), []byte("still here")))
	s, ok := a.Session(p.b.NodeID())
	require.True(t, ok)
	assert.Same(t, toB, s)
}

// A check that fails for a local reason (the member repo cannot be read)
// keeps the session and reports the error; a cancelled context stops.
func TestRevalidateKeepsSessionsOnLocalFailure(t *testing.T) {
	repo := newMemberRepo()
	p := newPair(t, func(name string, c *Config) {
		if name == "a" {
			c.Policy.Members = repo
		}
	})
	repo.members[p.b.NodeID()] = core.Member{ID: p.b.NodeID()}
	sa, _ := p.connect(t)

	repo.mu.Lock()
	repo.err = errors.New("registry unreachable")
	repo.mu.Unlock()
	n, err := p.a.Revalidate(context.Background())
	assert.Zero(t, n)
	require.ErrorContains(t, err, "registry unreachable")
	require.NoError(t, sa.Err())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err = p.a.Revalidate(ctx)
	assert.Zero(t, n)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, sa.Err())
}

// dialed is the outcome of a Dial.
type dialed struct {
	s   *Session
	err error
}

// dialing dials addr from e on another goroutine.
func dialing(t *testing.T, e *Endpoint, addr string) <-chan dialed {
	done := make(chan dialed, 1)
	go func() {
		s, err := e.Dial(ctxT(t, 10*time.Second), addr)
		done <- dialed{s, err}
	}()
	return done
}

// endError waits for the dialed session to end and returns why; a session
// may end before Dial returns it, and then Dial's error says why.
func (d dialed) endError(t *testing.T) error {
	if d.err != nil {
		return d.err
	}
	waitDone(t, d.s)
	return d.s.Err()
}

// gatedRepo is a member repo whose lookups wait until release is closed;
// entered receives once a lookup is waiting.
type gatedRepo struct {
	*memberRepo
	entered chan struct{}
	release chan struct{}
}

func (g *gatedRepo) Get(ctx context.Context, id core.NodeID) (core.Member, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.release
	return g.memberRepo.Get(ctx, id)
}

// A responder that checked the initiator before Revalidate, and registers
// the session after it (its member lookup was slow), checks the session
// again once it exists: the revoked peer does not slip through.
func TestRevalidateCatchesAResponderHandshakeInFlight(t *testing.T) {
	var trustB *pki.TrustStore
	repo := &gatedRepo{memberRepo: newMemberRepo(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	p := newPair(t, func(name string, c *Config) {
		if name == "b" {
			trustB = c.Policy.Trust
			c.Policy.Members = repo
		}
	})
	repo.members[p.a.NodeID()] = core.Member{ID: p.a.NodeID()}
	done := dialing(t, p.a, addrB)
	select {
	case <-repo.entered: // b verified a's chain and signature, and waits on the repo
	case <-time.After(5 * time.Second):
		t.Fatal("the responder never looked the initiator up")
	}
	revokeLeaf(t, p, trustB, p.aID)
	n, err := p.b.Revalidate(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "no session yet")
	close(repo.release)

	// b confirms the keys, then ends the session it checks again: a learns
	// it from b's close records.
	assert.ErrorIs(t, (<-done).endError(t), ErrPeerClosed)
	require.Eventually(t, func() bool { _, ok := p.b.Session(p.a.NodeID()); return !ok }, 5*time.Second, 5*time.Millisecond)
}

// An initiator that checked the responder before Revalidate and confirms
// the keys after it (the confirming keepalive was late) checks the session
// again once it exists.
func TestRevalidateCatchesAnInitiatorHandshakeInFlight(t *testing.T) {
	var trustA *pki.TrustStore
	p := newPair(t, func(name string, c *Config) {
		if name == "a" {
			trustA = c.Policy.Trust
		}
	})
	var hold atomic.Bool
	hold.Store(true)
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if hold.Load() && pk.To.String() == addrA && packetType(pk.Payload[0]) == typeRecord {
			return fakenet.Drop // b's keepalive confirming the keys
		}
		return fakenet.Deliver
	})
	done := dialing(t, p.a, addrB)
	require.Eventually(t, func() bool { return p.b.Metrics().Sessions == 1 }, 5*time.Second, 5*time.Millisecond, "b never accepted M3")
	revokeLeaf(t, p, trustA, p.bID)
	n, err := p.a.Revalidate(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "no session yet")
	hold.Store(false) // the next M3 retransmission is answered

	err = (<-done).endError(t)
	assert.ErrorIs(t, err, ErrNoLongerTrusted)
	assert.ErrorIs(t, err, pki.ErrRevoked)
	_, ok := p.a.Session(p.b.NodeID())
	assert.False(t, ok)
}

// slowRepo is a member repo that, once slow is set, answers only when the
// caller gives up.
type slowRepo struct {
	*memberRepo
	slow atomic.Bool
}

func (r *slowRepo) Get(ctx context.Context, id core.NodeID) (core.Member, error) {
	if r.slow.Load() {
		<-ctx.Done()
		return core.Member{}, ctx.Err()
	}
	return r.memberRepo.Get(ctx, id)
}

// Chains are checked for every session before the member repo is asked,
// so a repo that hangs cannot keep a revoked peer's session open.
func TestRevalidateChecksChainsBeforeTheRepo(t *testing.T) {
	p := newPair(t, nil)
	trust := p.pki.trust()
	c := listen(t, p.net, "10.0.0.3:7000", testConfig(p.pki.node(t, "node-c"), PeerPolicy{Trust: p.pki.trust()}, p.clk))
	repo := &slowRepo{memberRepo: newMemberRepo(p.b.NodeID(), c.NodeID())}
	d := listen(t, p.net, "10.0.0.4:7000", testConfig(p.pki.node(t, "node-d"), PeerPolicy{Trust: trust, Members: repo}, p.clk))
	toB, err := d.Dial(ctxT(t, 5*time.Second), addrB)
	require.NoError(t, err)
	toC, err := d.Dial(ctxT(t, 5*time.Second), "10.0.0.3:7000")
	require.NoError(t, err)

	cID := Identity{Chain: [][]byte{toC.PeerChain()[0].Raw}}
	revokeLeaf(t, p, trust, cID)
	repo.slow.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	n, err := d.Revalidate(ctx)
	assert.Equal(t, 1, n)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	waitDone(t, toC)
	assert.ErrorIs(t, toC.Err(), pki.ErrRevoked)
	assert.NoError(t, toB.Err(), "a repo that did not answer condemned a session")
}
