package trust

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/memrepo"
	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/devpki"
	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

var testNow = time.Now()

// fixture is a PKI with three nodes and a foreign PKI with one.
type fixture struct {
	pki, foreign *devpki.PKI
	a, b, c      devpki.Node
	stranger     devpki.Node
	ids          map[string]Identity
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	scheme := pqc.SignatureSchemes()[0] // ML-DSA-65
	f := &fixture{ids: map[string]Identity{}}
	var err error
	f.pki, err = devpki.New(t.TempDir(), "test", scheme, testNow)
	require.NoError(t, err)
	f.foreign, err = devpki.New(t.TempDir(), "foreign", scheme, testNow)
	require.NoError(t, err)
	for _, n := range []struct {
		p    *devpki.PKI
		name string
		dst  *devpki.Node
	}{{f.pki, "a", &f.a}, {f.pki, "b", &f.b}, {f.pki, "c", &f.c}, {f.foreign, "stranger", &f.stranger}} {
		*n.dst, err = n.p.Node(n.name)
		require.NoError(t, err)
		f.ids[n.name], err = LoadIdentity(n.dst.CertFile, n.dst.KeyFile, cliutil.Passphrase{})
		require.NoError(t, err)
	}
	return f
}

func (f *fixture) store(t testing.TB, crls ...string) *pki.TrustStore {
	t.Helper()
	ts, err := LoadTrustStore(f.pki.RootFile, crls, testNow)
	require.NoError(t, err)
	return ts
}

func TestLoadIdentity(t *testing.T) {
	f := newFixture(t)
	id := f.ids["a"]
	assert.Equal(t, f.a.ID, id.NodeID())
	require.Len(t, id.Chain, 2, "leaf and intermediate")
	require.NoError(t, id.Verify(f.store(t), testNow))
	assert.Len(t, id.Transport().Chain, 2)
	ders, err := SplitCredential(id.Credential())
	require.NoError(t, err)
	assert.Equal(t, id.Transport().Chain, ders)

	// The node's own chain is checked against the roots at startup.
	foreign, err := LoadTrustStore(f.foreign.RootFile, nil, testNow)
	require.NoError(t, err)
	require.ErrorContains(t, id.Verify(foreign, testNow), "own certificate chain does not verify")

	for _, tc := range []struct {
		rule, cert, key, want string
	}{
		{"the key must be the certificate's", f.a.CertFile, f.b.KeyFile, "does not belong to certificate"},
		{"a missing certificate file is reported", filepath.Join(t.TempDir(), "none.crt"), f.a.KeyFile, "no such file"},
		{"a missing key file is reported", f.a.CertFile, filepath.Join(t.TempDir(), "none.key"), "no such file"},
		{"a key is not a certificate", f.a.KeyFile, f.a.KeyFile, "identity: certificate"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			_, err := LoadIdentity(tc.cert, tc.key, cliutil.Passphrase{})
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestLoadTrustStore(t *testing.T) {
	f := newFixture(t)
	_, err := LoadTrustStore(filepath.Join(t.TempDir(), "none.crt"), nil, testNow)
	require.ErrorIs(t, err, os.ErrNotExist)
	crl, err := f.foreign.Revoke(1, f.stranger.Chain[0])
	require.NoError(t, err)
	_, err = LoadTrustStore(f.pki.RootFile, []string{crl}, testNow)
	require.ErrorContains(t, err, "revocation list", "a list from another PKI is refused")
}

// countingRepo counts registry lookups.
type countingRepo struct {
	core.MemberRepo
	gets atomic.Int64
}

func (r *countingRepo) Get(ctx context.Context, id core.NodeID) (core.Member, error) {
	r.gets.Add(1)
	return r.MemberRepo.Get(ctx, id)
}

func TestResolverRules(t *testing.T) {
	f := newFixture(t)
	crl, err := f.pki.Revoke(1, f.c.Chain[0])
	require.NoError(t, err)
	registry := memrepo.New()
	t.Cleanup(func() { registry.Close() })
	for _, n := range []devpki.Node{f.a, f.b} {
		_, err := registry.Put(context.Background(), core.Member{ID: n.ID, Certificate: n.Chain[0].Raw, Weight: 1}, 0)
		require.NoError(t, err)
	}
	cred := func(name string) []byte { return f.ids[name].Credential() }
	for _, tc := range []struct {
		rule       string
		cfg        func(c *ResolverConfig)
		id         core.NodeID
		credential []byte
		want       error // nil: the member's key
	}{
		{"a chain to a trusted root gives its leaf key", nil, f.a.ID, cred("a"), nil},
		{"a chain from a foreign root is refused", nil, f.stranger.ID, cred("stranger"), core.ErrVerification},
		{"a member cannot present another member's chain", nil, f.a.ID, cred("b"), core.ErrVerification},
		{"a revoked certificate is refused", func(c *ResolverConfig) { c.Trust = f.store(t, crl) }, f.c.ID, cred("c"), pki.ErrRevoked},
		{"an expired chain is refused", func(c *ResolverConfig) { c.Now = func() time.Time { return testNow.Add(365 * 24 * time.Hour) } }, f.a.ID, cred("a"), core.ErrVerification},
		{"a leaf alone misses its intermediate", nil, f.a.ID, f.a.Chain[0].Raw, core.ErrVerification},
		{"garbage is refused", nil, f.a.ID, []byte{0x30, 0x03, 1, 2}, core.ErrInvalidInput},
		{"without a credential an unknown member is not found", nil, f.a.ID, nil, core.ErrNotFound},
		{"the allow-list refuses a member it does not list", func(c *ResolverConfig) { c.Members = registry }, f.c.ID, cred("c"), core.ErrNotFound},
		{"the allow-list admits a listed member", func(c *ResolverConfig) { c.Members = registry }, f.b.ID, cred("b"), nil},
		{"pinned IDs refuse the others", func(c *ResolverConfig) { c.Pinned = []core.NodeID{f.b.ID} }, f.a.ID, cred("a"), core.ErrVerification},
		{"pinned IDs admit themselves", func(c *ResolverConfig) { c.Pinned = []core.NodeID{f.a.ID} }, f.a.ID, cred("a"), nil},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			cfg := ResolverConfig{Trust: f.store(t), Schemes: pqc.SignatureSchemes()}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			key, err := NewResolver(cfg).ResolveKey(context.Background(), tc.id, tc.credential)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				assert.Nil(t, key)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.id, core.NodeIDOf(key))
		})
	}
}

// A credential that does not parse is one that fails to verify: the
// swim.KeyResolver contract has it wrap core.ErrVerification, and the
// resolver keeps core.ErrInvalidInput for the parse failure beneath.
func TestResolverRefusesMalformedCredentialsAsVerificationFailures(t *testing.T) {
	f := newFixture(t)
	cred := f.ids["a"].Credential()
	leaf := f.a.Chain[0].Raw
	tooLong := bytes.Repeat(leaf, pki.MaxChainLength+1)
	forged := bytes.Clone(cred)
	forged[len(leaf)-1] ^= 1 // the last byte of the leaf's signature
	for _, tc := range []struct {
		rule       string
		credential []byte
		want       []error
	}{
		{"truncated DER", []byte{0x30, 0x03, 1, 2}, []error{core.ErrVerification, core.ErrInvalidInput}},
		{"not a DER SEQUENCE", []byte{0x04, 0x00}, []error{core.ErrVerification, core.ErrInvalidInput}},
		{"trailing bytes after the chain", append(bytes.Clone(cred), 0x30), []error{core.ErrVerification, core.ErrInvalidInput}},
		{"more certificates than a chain may hold", tooLong, []error{core.ErrVerification, core.ErrInvalidInput}},
		{"a SEQUENCE that is no certificate", []byte{0x30, 0x00}, []error{core.ErrVerification, core.ErrInvalidInput}},
		{"a leaf whose signature was changed", forged, []error{core.ErrVerification}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			r := NewResolver(ResolverConfig{Trust: f.store(t), Schemes: pqc.SignatureSchemes()})
			key, err := r.ResolveKey(context.Background(), f.a.ID, tc.credential)
			for _, want := range tc.want {
				require.ErrorIs(t, err, want)
			}
			assert.Nil(t, key)
			_, err = r.ResolveKey(context.Background(), f.a.ID, nil)
			require.ErrorIs(t, err, core.ErrNotFound, "nothing is cached from a refused credential")
		})
	}
}

func TestResolverCachesAndRechecks(t *testing.T) {
	f := newFixture(t)
	registry := &countingRepo{MemberRepo: memrepo.New()}
	_, err := registry.Put(context.Background(), core.Member{ID: f.a.ID, Certificate: f.a.Chain[0].Raw, Weight: 1}, 0)
	require.NoError(t, err)
	var now atomic.Pointer[time.Time]
	now.Store(&testNow)
	r := NewResolver(ResolverConfig{
		Trust: f.store(t), Schemes: pqc.SignatureSchemes(), Members: registry,
		Now: func() time.Time { return *now.Load() }, CacheTTL: time.Minute,
	})
	ctx := context.Background()

	_, err = r.ResolveKey(ctx, f.a.ID, f.ids["a"].Credential())
	require.NoError(t, err)
	_, err = r.ResolveKey(ctx, f.a.ID, f.ids["a"].Credential())
	require.NoError(t, err)
	_, err = r.ResolveKey(ctx, f.a.ID, nil)
	require.NoError(t, err, "a cached key serves records without a credential")
	assert.Equal(t, int64(1), registry.gets.Load(), "cache hits skip the registry")

	// After the TTL the registry is asked again: a removed member is refused.
	_, err = registry.Delete(ctx, f.a.ID, core.AnyRevision)
	require.NoError(t, err)
	later := testNow.Add(2 * time.Minute)
	now.Store(&later)
	_, err = r.ResolveKey(ctx, f.a.ID, f.ids["a"].Credential())
	require.ErrorIs(t, err, core.ErrNotFound)
}

func TestSplitCredential(t *testing.T) {
	for _, tc := range []struct {
		rule string
		in   []byte
		n    int
	}{
		{"two certificates", []byte{0x30, 0x01, 0x05, 0x30, 0x00}, 2},
		{"empty is refused", nil, -1},
		{"trailing bytes are refused", []byte{0x30, 0x00, 0x01}, -1},
		{"non-sequences are refused", []byte{0x04, 0x00}, -1},
		{"truncated lengths are refused", []byte{0x30, 0x05, 0x00}, -1},
		{"at most MaxChainLength certificates", make([]byte, 2*(pki.MaxChainLength+1)), -1},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			in := tc.in
			if tc.rule == "at most MaxChainLength certificates" {
				for i := 0; i < len(in); i += 2 {
					in[i] = 0x30
				}
			}
			ders, err := SplitCredential(in)
			if tc.n < 0 {
				require.ErrorIs(t, err, core.ErrInvalidInput)
				return
			}
			require.NoError(t, err)
			assert.Len(t, ders, tc.n)
		})
	}
}

func FuzzSplitCredential(f *testing.F) {
	f.Add([]byte{0x30, 0x01, 0x05, 0x30, 0x00})
	f.Add([]byte{0x30, 0x82, 0x00, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		ders, err := SplitCredential(b)
		if err != nil {
			return
		}
		var joined []byte
		for _, d := range ders {
			joined = append(joined, d...)
		}
		if string(joined) != string(b) || len(ders) > pki.MaxChainLength {
			t.Fatalf("split of %x is not a partition: %d parts", b, len(ders))
		}
	})
}
