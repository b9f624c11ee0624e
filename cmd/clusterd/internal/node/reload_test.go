package node

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/trust"
	"github.com/snowmerak/clustering/membership/swim"
	"github.com/snowmerak/clustering/pki"
	"github.com/snowmerak/clustering/transport"
)

// A revocation list written while the node runs takes effect at
// ReloadTrust: the revoked member's session closes at once, its gossip is
// no longer believed, and it drops out of the node's view; the others stay.
func TestReloadTrustRevokesARunningMember(t *testing.T) {
	c := newClusterWith(t, pqc.MLDSA65, pqc.DefaultSuite()) // the files hold ML-DSA, as cpki writes them
	empty, err := c.pki.Revoke(1)
	require.NoError(t, err)
	listPath := filepath.Join(t.TempDir(), "current.crl")
	copyTo(t, empty, listPath)
	o1 := c.options("n1", "10.0.0.1")
	o1.RootsFile, o1.RevocationLists = c.pki.RootFile, []string{listPath}
	o1.Trust, err = trust.LoadTrustStore(o1.RootsFile, o1.RevocationLists, time.Now())
	require.NoError(t, err)
	n1 := c.start(o1)
	n2 := c.start(c.options("n2", "10.0.0.2", seedOf(n1)))
	n3 := c.start(c.options("n3", "10.0.0.3", seedOf(n1)))
	require.Eventually(t, func() bool {
		_, s2 := n1.endpoint.Session(n2.ID())
		_, s3 := n1.endpoint.Session(n3.ID())
		return len(n1.View().Members) == 3 && s2 && s3
	}, 10*time.Second, 20*time.Millisecond, "n1 places all three and has sessions with both")

	got, err := n1.ReloadTrust(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Reloaded{Trust: trust.Reloaded{Roots: 1, RevocationLists: 1}}, got, "nothing changed")

	chain3 := n3.opts.Identity.Chain
	revokes3, err := c.pki.Revoke(2, chain3[0])
	require.NoError(t, err)
	copyTo(t, revokes3, listPath)
	s3, _ := n1.endpoint.Session(n3.ID())
	got, err = n1.ReloadTrust(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Reloaded{Trust: trust.Reloaded{Roots: 1, RevocationLists: 1, Revoked: 1}, ClosedSessions: 1, Evicted: 1}, got)
	<-s3.Done()
	require.ErrorIs(t, s3.Err(), transport.ErrNoLongerTrusted)
	require.ErrorIs(t, s3.Err(), pki.ErrRevoked)

	v, err := n1.WaitView(ctxFor(t, 5*time.Second), func(v *View) bool { return !v.Has(n3.ID()) })
	require.NoError(t, err, "the revoked member is still placed")
	assert.True(t, v.Has(n2.ID()))
	// Through a push-pull round: n3 is still trusted by n2 and refutes its
	// death there, but n1 neither believes it nor lets it back in.
	require.Never(t, func() bool {
		_, session := n1.endpoint.Session(n3.ID())
		return session || states(n1)[n3.ID()] == swim.StateAlive
	}, fastSWIM().PushPullInterval+time.Second, 50*time.Millisecond, "n3 came back into n1's cluster")
	_, ok := n1.endpoint.Session(n2.ID())
	assert.True(t, ok, "n2 lost its session")
	assert.Equal(t, swim.StateAlive, states(n1)[n2.ID()])
}

// A reload whose file fails changes nothing it cannot vouch for, still
// re-checks the peers, and reports the file.
func TestReloadTrustReportsABadFile(t *testing.T) {
	c := newClusterWith(t, pqc.MLDSA65, pqc.DefaultSuite())
	o := c.options("n1", "10.0.0.1")
	o.RootsFile = filepath.Join(t.TempDir(), "roots.crt")
	copyTo(t, c.pki.RootFile, o.RootsFile)
	n1 := c.start(o)
	require.NoError(t, os.WriteFile(o.RootsFile, []byte("not PEM"), 0o644))
	_, err := n1.ReloadTrust(context.Background())
	require.ErrorContains(t, err, o.RootsFile)
	assert.Len(t, c.trust.Roots(), 1, "the roots stay")
}

func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, data, 0o644))
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// A reload waiting behind another gives up with its context and changes
// nothing.
func TestReloadTrustWaitsForTheReloadInProgress(t *testing.T) {
	c := newCluster(t)
	n1 := c.start(c.options("n1", "10.0.0.1"))
	n1.reloading <- struct{}{} // a reload in progress
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := n1.ReloadTrust(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	<-n1.reloading
	_, err = n1.ReloadTrust(context.Background())
	require.NoError(t, err)
}
