package pki

import (
	"crypto/x509"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
)

// tallyScheme is Ed25519 whose public keys count their verifications.
type tallyScheme struct {
	core.SignatureScheme
	n *atomic.Int64
}

func (s tallyScheme) ParsePublicKey(b []byte) (core.PublicKey, error) {
	k, err := s.SignatureScheme.ParsePublicKey(b)
	return tallyKey{k, s.n}, err
}

type tallyKey struct {
	core.PublicKey
	n *atomic.Int64
}

func (k tallyKey) Verify(m, ctx, sig []byte) bool {
	k.n.Add(1)
	return k.PublicKey.Verify(m, ctx, sig)
}

// countingPKI reparses the test PKI with keys that count verifications.
func countingPKI(t *testing.T) (p *testPKI, chain []*Certificate, ts *TrustStore, verifies *atomic.Int64) {
	t.Helper()
	p = newTestPKI(t)
	verifies = new(atomic.Int64)
	schemes := []core.SignatureScheme{tallyScheme{coretest.Ed25519, verifies}}
	parse := func(c *Certificate) *Certificate {
		out, err := ParseCertificate(c.Raw, schemes)
		require.NoError(t, err)
		return out
	}
	return p, []*Certificate{parse(p.leaf), parse(p.inter)}, NewTrustStore(parse(p.root)), verifies
}

func TestSignatureMemoSkipsSignaturesThatVerified(t *testing.T) {
	_, chain, ts, verifies := countingPKI(t)
	opts := VerifyOptions{Now: t0}
	_, err := ts.Verify(chain, opts)
	require.NoError(t, err)
	assert.EqualValues(t, 2, verifies.Swap(0), "first Verify checks both signatures")
	_, err = ts.Verify(chain, opts)
	require.NoError(t, err)
	assert.EqualValues(t, 0, verifies.Swap(0), "second Verify finds both in the memo")

	ts.SetSignatureMemoSize(0)
	for range 2 {
		_, err = ts.Verify(chain, opts)
		require.NoError(t, err)
		assert.EqualValues(t, 2, verifies.Swap(0), "without a memo every Verify checks every signature")
	}
}

// The memo holds signature checks only: every other rule still fails a chain
// whose signatures it remembers.
func TestSignatureMemoKeepsEveryOtherRule(t *testing.T) {
	tests := []struct {
		name string
		// change returns the verification to run after the chain verified once.
		change func(t *testing.T, p *testPKI, ts *TrustStore) VerifyOptions
		want   error
	}{
		{"leaf expired since", func(*testing.T, *testPKI, *TrustStore) VerifyOptions {
			return VerifyOptions{Now: t0.Add(91 * day)}
		}, ErrExpired},
		{"chain not yet valid at the time asked", func(*testing.T, *testPKI, *TrustStore) VerifyOptions {
			return VerifyOptions{Now: t0.Add(-31 * day)}
		}, ErrNotYetValid},
		{"leaf revoked since", func(t *testing.T, p *testPKI, ts *TrustStore) VerifyOptions {
			require.NoError(t, ts.AddRevocationList(mustList(t, p.root, p.rootKey, 1, RevokeCertificate(p.leaf, p.inter, t0, "key compromise")), nil, t0))
			return VerifyOptions{Now: t0}
		}, ErrRevoked},
		{"intermediate revoked since", func(t *testing.T, p *testPKI, ts *TrustStore) VerifyOptions {
			require.NoError(t, ts.AddRevocationList(mustList(t, p.root, p.rootKey, 1, RevokeCertificate(p.inter, p.root, t0, "compromised")), nil, t0))
			return VerifyOptions{Now: t0}
		}, ErrRevoked},
		{"root no longer trusted", func(_ *testing.T, _ *testPKI, ts *TrustStore) VerifyOptions {
			for _, r := range ts.Roots() {
				ts.Remove(r)
			}
			return VerifyOptions{Now: t0}
		}, ErrUnknownAuthority},
		{"name not in the leaf", func(*testing.T, *testPKI, *TrustStore) VerifyOptions {
			return VerifyOptions{Now: t0, DNSName: "other.example.com"}
		}, ErrNameMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, chain, ts, verifies := countingPKI(t)
			_, err := ts.Verify(chain, VerifyOptions{Now: t0})
			require.NoError(t, err)
			require.EqualValues(t, 2, verifies.Swap(0))
			_, err = ts.Verify(chain, tt.change(t, p, ts))
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// A memo hit needs the very bytes that verified: another signature, other
// signed bytes or another issuer key are checked, and fail.
func TestSignatureMemoNeverVouchesForOtherBytes(t *testing.T) {
	p, chain, ts, verifies := countingPKI(t)
	_, err := ts.Verify(chain, VerifyOptions{Now: t0})
	require.NoError(t, err)
	verifies.Store(0)

	// The leaf's DER ends with its signature: flip its last bit.
	der := append([]byte(nil), p.leaf.Raw...)
	der[len(der)-1] ^= 1
	tampered, err := ParseCertificate(der, []core.SignatureScheme{tallyScheme{coretest.Ed25519, verifies}})
	require.NoError(t, err)
	_, err = ts.Verify([]*Certificate{tampered, chain[1]}, VerifyOptions{Now: t0})
	require.ErrorIs(t, err, ErrBadSignature)
	assert.EqualValues(t, 1, verifies.Load(), "the tampered signature was checked, not found in the memo")

	// Every input of the signature check changes the memo key.
	twinKey := testKey(t, "twin")
	twin, err := Issue(caTemplate("Test Intermediate", t0.Add(-day), t0.Add(100*day)), twinKey.Public(), p.root, p.rootKey, nil)
	require.NoError(t, err)
	relabelled := *p.leaf
	relabelled.RawTBSCertificate = append([]byte(nil), p.leaf.RawTBSCertificate...)
	relabelled.RawTBSCertificate[len(relabelled.RawTBSCertificate)-1] ^= 1
	otherAlg := *p.leaf
	otherAlg.SignatureScheme = altScheme
	base := signatureKey(p.leaf, p.inter)
	for name, k := range map[string][32]byte{
		"signature":     signatureKey(tampered, p.inter),
		"signed bytes":  signatureKey(&relabelled, p.inter),
		"issuer key":    signatureKey(p.leaf, twin),
		"algorithm":     signatureKey(&otherAlg, p.inter),
		"issuer scheme": signatureKey(p.leaf, &Certificate{PublicKey: altPublic{p.inter.PublicKey}}),
	} {
		assert.NotEqual(t, base, k, name)
	}
}

// Signatures are remembered only for chains that verified whole: a leaf
// genuinely signed by an intermediate that the root did not sign leaves
// nothing behind (an attacker cannot fill the memo with its own chains).
func TestSignatureMemoIgnoresChainsThatFail(t *testing.T) {
	p := newTestPKI(t)
	ts := p.store()
	rogueKey := testKey(t, "rogue")
	rogue := forge(t, caTemplate("Test Intermediate", t0.Add(-day), t0.Add(100*day)), rogueKey.Public(), p.root, rogueKey, nil)
	leaf, err := Issue(leafTemplate("node9", t0.Add(-day), t0.Add(day)), testKey(t, "node9").Public(), rogue, rogueKey, nil)
	require.NoError(t, err)
	require.NoError(t, leaf.CheckSignatureFrom(rogue), "the leaf's own signature is genuine")
	for range 2 {
		_, err = ts.Verify([]*Certificate{leaf, rogue}, VerifyOptions{Now: t0})
		require.ErrorIs(t, err, ErrBadSignature)
	}
	assert.Zero(t, ts.memo.Load().size())
}

func TestSignatureMemoIsBoundedAndKeepsWhatIsUsed(t *testing.T) {
	m := newSignatureMemo(4)
	key := func(i int) [32]byte { return [32]byte{byte(i), 1} }
	m.add(key(0), key(1), key(2), key(3))
	require.True(t, m.contains(key(0)), "a hit marks the entry used")
	for i := 4; i < 20; i++ {
		m.add(key(i))
		m.contains(key(0))
		assert.LessOrEqual(t, m.size(), 4)
	}
	assert.True(t, m.contains(key(0)), "an entry hit between insertions survives")
	assert.False(t, m.contains(key(1)))
	assert.Nil(t, newSignatureMemo(0))
	var off *signatureMemo
	off.add(key(1))
	assert.False(t, off.contains(key(1)))
}

// Verifying with the memo and without it gives the same verdict on every
// chain of the verification tests' kind (a differential check).
func TestSignatureMemoSameVerdicts(t *testing.T) {
	p := newTestPKI(t)
	withMemo, without := p.store(), p.store()
	without.SetSignatureMemoSize(0)
	expiredLeaf, err := Issue(leafTemplate("old", t0.Add(-10*day), t0.Add(-day)), testKey(t, "old").Public(), p.inter, p.interKey, nil)
	require.NoError(t, err)
	chains := [][]*Certificate{
		{p.leaf, p.inter}, {p.leaf, p.inter, p.root}, {p.inter}, {p.leaf}, {expiredLeaf, p.inter},
	}
	for round := range 3 {
		for i, c := range chains {
			_, e1 := withMemo.Verify(c, VerifyOptions{Now: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			_, e2 := without.Verify(c, VerifyOptions{Now: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			assert.Equal(t, e2 == nil, e1 == nil, "round %d chain %d: %v vs %v", round, i, e1, e2)
		}
	}
}
