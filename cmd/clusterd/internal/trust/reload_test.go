package trust

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/memrepo"
	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

// copyFile replaces dst's content with src's.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, data, 0o644))
}

// Reload installs a newer revocation list from the same file; an older one
// is refused and the newer stays installed.
func TestReloadInstallsNewerRevocationLists(t *testing.T) {
	f := newFixture(t)
	empty, err := f.pki.Revoke(1)
	require.NoError(t, err)
	revokesB, err := f.pki.Revoke(2, f.b.Chain[0])
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "current.crl")
	copyFile(t, empty, path)
	ts := f.store(t, path)
	_, err = ts.Verify(f.b.Chain, pki.VerifyOptions{Now: testNow})
	require.NoError(t, err)

	copyFile(t, revokesB, path)
	got, err := Reload(ts, f.ids["a"], f.pki.RootFile, []string{path}, testNow)
	require.NoError(t, err)
	assert.Equal(t, Reloaded{Roots: 1, RevocationLists: 1, Revoked: 1}, got)
	_, err = ts.Verify(f.b.Chain, pki.VerifyOptions{Now: testNow})
	require.ErrorIs(t, err, pki.ErrRevoked)

	copyFile(t, empty, path) // an older list: refused, nothing lost
	got, err = Reload(ts, f.ids["a"], f.pki.RootFile, []string{path}, testNow)
	require.ErrorIs(t, err, core.ErrConflict)
	assert.ErrorContains(t, err, path)
	assert.Equal(t, Reloaded{Roots: 1, RevocationLists: 1, Revoked: 1}, got)
	_, err = ts.Verify(f.b.Chain, pki.VerifyOptions{Now: testNow})
	require.ErrorIs(t, err, pki.ErrRevoked)

	require.NoError(t, os.Remove(path))
	_, err = Reload(ts, f.ids["a"], f.pki.RootFile, []string{path}, testNow)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// The roots file replaces the store's roots, unless the node's own chain
// would no longer verify.
func TestReloadReplacesRoots(t *testing.T) {
	f := newFixture(t)
	ts := f.store(t)
	path := filepath.Join(t.TempDir(), "roots.crt")

	copyFile(t, f.foreign.RootFile, path)
	_, err := Reload(ts, f.ids["a"], path, nil, testNow)
	require.ErrorContains(t, err, "own certificate chain does not verify")
	require.Len(t, ts.Roots(), 1, "roots that drop the node's own root are refused")
	assert.Equal(t, f.pki.Root.Fingerprint(), ts.Roots()[0].Fingerprint())

	require.NoError(t, os.WriteFile(path, pki.EncodeCertificatesPEM(f.pki.Root, f.foreign.Root), 0o644))
	got, err := Reload(ts, f.ids["a"], path, nil, testNow)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Roots)
	_, err = ts.Verify(f.stranger.Chain, pki.VerifyOptions{Now: testNow})
	require.NoError(t, err)

	copyFile(t, f.pki.RootFile, path)
	got, err = Reload(ts, f.ids["a"], path, nil, testNow)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Roots)
	_, err = ts.Verify(f.stranger.Chain, pki.VerifyOptions{Now: testNow})
	require.ErrorIs(t, err, pki.ErrUnknownAuthority, "a removed root vouches for nobody")
}

// A cached key serves until Flush; then the chain is checked against the
// store as it is now.
func TestResolverFlushRechecksChains(t *testing.T) {
	f := newFixture(t)
	ts := f.store(t)
	r := NewResolver(ResolverConfig{Trust: ts, Schemes: pqc.SignatureSchemes()})
	ctx := context.Background()
	_, err := r.ResolveKey(ctx, f.b.ID, f.ids["b"].Credential())
	require.NoError(t, err)

	revokesB, err := f.pki.Revoke(1, f.b.Chain[0])
	require.NoError(t, err)
	_, err = Reload(ts, f.ids["a"], f.pki.RootFile, []string{revokesB}, testNow)
	require.NoError(t, err)
	_, err = r.ResolveKey(ctx, f.b.ID, f.ids["b"].Credential())
	require.NoError(t, err, "the cached key still serves before Flush")

	r.Flush()
	_, err = r.ResolveKey(ctx, f.b.ID, f.ids["b"].Credential())
	require.ErrorIs(t, err, core.ErrVerification)
	require.ErrorIs(t, err, pki.ErrRevoked)
	_, err = r.ResolveKey(ctx, f.b.ID, nil)
	require.ErrorIs(t, err, core.ErrNotFound, "nothing cached for the revoked member")
}

// gatedRepo holds its lookups until release is closed; entered receives
// once one is waiting.
type gatedRepo struct {
	core.MemberRepo
	entered, release chan struct{}
}

func (g *gatedRepo) Get(ctx context.Context, id core.NodeID) (core.Member, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.release
	return g.MemberRepo.Get(ctx, id)
}

// A resolution under way when Flush runs is answered but not remembered:
// its verdict may rest on the trust from before the flush.
func TestResolverDoesNotCacheAcrossAFlush(t *testing.T) {
	f := newFixture(t)
	registry := &gatedRepo{MemberRepo: memrepo.New(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	_, err := registry.MemberRepo.Put(context.Background(), core.Member{ID: f.a.ID, Certificate: f.a.Chain[0].Raw, Weight: 1}, 0)
	require.NoError(t, err)
	r := NewResolver(ResolverConfig{Trust: f.store(t), Schemes: pqc.SignatureSchemes(), Members: registry})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := r.ResolveKey(ctx, f.a.ID, f.ids["a"].Credential())
		done <- err
	}()
	<-registry.entered
	r.Flush()
	close(registry.release)
	require.NoError(t, <-done)
	_, err = r.ResolveKey(ctx, f.a.ID, nil)
	require.ErrorIs(t, err, core.ErrNotFound, "a key verified before the flush was cached after it")
	_, err = r.ResolveKey(ctx, f.a.ID, f.ids["a"].Credential())
	require.NoError(t, err)
	_, err = r.ResolveKey(ctx, f.a.ID, nil)
	require.NoError(t, err, "a key verified after the flush is cached")
}

// A revoked chain is refused even while the registry does not answer: the
// chain is checked first, so the refusal is not mistaken for a local
// failure.
func TestResolverRefusesARevokedChainWhileTheRegistryIsDown(t *testing.T) {
	f := newFixture(t)
	revokesB, err := f.pki.Revoke(1, f.b.Chain[0])
	require.NoError(t, err)
	down := &gatedRepo{MemberRepo: memrepo.New(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	r := NewResolver(ResolverConfig{Trust: f.store(t, revokesB), Schemes: pqc.SignatureSchemes(), Members: down})
	_, err = r.ResolveKey(context.Background(), f.b.ID, f.ids["b"].Credential())
	require.ErrorIs(t, err, core.ErrVerification)
	require.ErrorIs(t, err, pki.ErrRevoked)
	select {
	case <-down.entered:
		t.Fatal("the registry was asked about a chain that does not verify")
	default:
	}
}
