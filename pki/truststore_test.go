package pki

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrustStoreAddRemoveAndPEM(t *testing.T) {
	p := newTestPKI(t)
	otherKey := testKey(t, "other")
	other, err := NewRoot(caTemplate("Other Root", t0.Add(-day), t0.Add(100*day)), otherKey, nil)
	require.NoError(t, err)

	ts := NewTrustStore(p.root)
	ts.Add(other)
	ts.Add(p.root) // duplicate: ignored
	require.Len(t, ts.Roots(), 2)

	loaded := NewTrustStore()
	require.NoError(t, loaded.AddPEM(ts.PEM(), testSchemes))
	require.Len(t, loaded.Roots(), 2)
	assert.Equal(t, p.root.Raw, loaded.Roots()[0].Raw)
	assert.Equal(t, other.Raw, loaded.Roots()[1].Raw)
	require.ErrorIs(t, loaded.AddPEM([]byte("junk"), testSchemes), ErrMalformed)

	chain := []*Certificate{p.leaf, p.inter}
	_, err = loaded.Verify(chain, VerifyOptions{Now: t0})
	require.NoError(t, err)
	loaded.Remove(p.root)
	require.Len(t, loaded.Roots(), 1)
	_, err = loaded.Verify(chain, VerifyOptions{Now: t0})
	require.ErrorIs(t, err, ErrUnknownAuthority)
}

// ParseChain hands back the very certificates (and parsed keys) of roots and
// of intermediates that verified before, instead of parsing them again.
func TestParseChainReusesParsedCAs(t *testing.T) {
	p := newTestPKI(t)
	ts := p.store()
	ders := [][]byte{p.leaf.Raw, p.inter.Raw, p.root.Raw}

	first, err := ts.ParseChain(ders, testSchemes)
	require.NoError(t, err)
	assert.NotSame(t, p.inter, first[1])
	assert.Same(t, p.root, first[2], "roots come from the store")
	_, err = ts.Verify(first, VerifyOptions{Now: t0})
	require.NoError(t, err)

	second, err := ts.ParseChain(ders, testSchemes)
	require.NoError(t, err)
	assert.Same(t, first[1], second[1], "the verified intermediate is reused")
	assert.NotSame(t, first[0], second[0], "leaves are not cached")

	// A cached certificate is not handed out to a caller that does not
	// accept its algorithm.
	_, err = ts.ParseChain(ders[1:2], []core.SignatureScheme{altScheme})
	require.ErrorIs(t, err, ErrUnknownAlgorithm)

	_, err = ts.ParseChain([][]byte{p.leaf.Raw[:10]}, testSchemes)
	require.ErrorIs(t, err, ErrMalformed)
}

func TestIntermediateCacheIsBounded(t *testing.T) {
	p := newTestPKI(t)
	ts := p.store()
	for i := range maxCachedIntermediates + 10 {
		ca := forge(t, caTemplate(fmt.Sprintf("I%d", i), t0.Add(-day), t0.Add(day)), p.interKey.Public(), p.root, p.rootKey, nil)
		ts.remember([]*Certificate{ca})
	}
	assert.Len(t, ts.intermediates, maxCachedIntermediates)
}

// Verify, Add, Remove and AddRevocationList from many goroutines (run with -race).
func TestTrustStoreConcurrentUse(t *testing.T) {
	p := newTestPKI(t)
	ts := p.store()
	other, err := NewRoot(caTemplate("Other", t0.Add(-day), t0.Add(day)), testKey(t, "o"), nil)
	require.NoError(t, err)
	lists := make([]*RevocationList, 50)
	for i := range lists {
		lists[i] = mustList(t, p.root, p.rootKey, int64(i))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				switch g % 4 {
				case 0:
					ts.Add(other)
				case 1:
					ts.Remove(other)
				case 2:
					_ = ts.AddRevocationList(lists[i], nil, t0) // may lose a race to a newer list
				}
				chain, err := ts.ParseChain([][]byte{p.leaf.Raw, p.inter.Raw}, testSchemes)
				if assert.NoError(t, err) {
					_, err = ts.Verify(chain, VerifyOptions{Now: t0})
					assert.NoError(t, err)
				}
			}
		}()
	}
	wg.Wait()
}

// The cache holds parsed certificates, not verdicts: an intermediate reused
// by ParseChain is checked again on every Verify, so a later revocation or
// its expiry still fails the chain, and a cached copy never stands in for
// other bytes.
func TestCachedIntermediateIsVerifiedAgain(t *testing.T) {
	p := newTestPKI(t)
	ts := p.store()
	ders := [][]byte{p.leaf.Raw, p.inter.Raw}
	first, err := ts.ParseChain(ders, testSchemes)
	require.NoError(t, err)
	_, err = ts.Verify(first, VerifyOptions{Now: t0})
	require.NoError(t, err)

	again, err := ts.ParseChain(ders, testSchemes)
	require.NoError(t, err)
	require.Same(t, first[1], again[1], "the intermediate comes from the cache")
	_, err = ts.Verify(again, VerifyOptions{Now: p.inter.NotAfter.Add(time.Second)})
	require.ErrorIs(t, err, ErrExpired)

	twin, err := Issue(caTemplate("Test Intermediate", t0.Add(-day), t0.Add(100*day)), testKey(t, "twin").Public(), p.root, p.rootKey, nil)
	require.NoError(t, err)
	other, err := ts.ParseChain([][]byte{p.leaf.Raw, twin.Raw}, testSchemes)
	require.NoError(t, err)
	assert.NotSame(t, first[1], other[1], "other bytes, other certificate")
	_, err = ts.Verify(other, VerifyOptions{Now: t0})
	require.ErrorIs(t, err, ErrIssuerMismatch)

	require.NoError(t, ts.AddRevocationList(mustList(t, p.root, p.rootKey, 1, RevokeCertificate(p.inter, p.root, t0, "compromised")), nil, t0))
	again, err = ts.ParseChain(ders, testSchemes)
	require.NoError(t, err)
	require.Same(t, first[1], again[1])
	_, err = ts.Verify(again, VerifyOptions{Now: t0})
	require.ErrorIs(t, err, ErrRevoked)
}
