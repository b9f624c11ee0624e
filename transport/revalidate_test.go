package transport

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
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
