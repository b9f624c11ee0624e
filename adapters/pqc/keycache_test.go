package pqc

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
)

// len returns the number of cached keys.
func (c *keyCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.used
}

// signedKey is a public key with a signature by it.
type signedKey struct {
	pub, sig []byte
}

var testMsg = []byte("cached key test")

func signedKeys(t testing.TB, s core.SignatureScheme, n int) []signedKey {
	t.Helper()
	out := make([]signedKey, n)
	for i := range out {
		k, err := s.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, 32))
		require.NoError(t, err)
		sig, err := k.Sign(testMsg, nil)
		require.NoError(t, err)
		out[i] = signedKey{pub: k.Public().Bytes(), sig: sig}
	}
	return out
}

func parseMLDSA(t testing.TB, s core.SignatureScheme, b []byte) *mldsaPublicKey {
	t.Helper()
	p, err := s.ParsePublicKey(b)
	require.NoError(t, err)
	return p.(*mldsaPublicKey)
}

func TestKeyCacheSharesTheExpansionOfAVerifiedKey(t *testing.T) {
	s := WithPublicKeyCache(MLDSA65, 4)
	cache := s.(*mldsaScheme).cache
	keys := signedKeys(t, s, 1)

	first := parseMLDSA(t, s, keys[0].pub)
	assert.Equal(t, 0, cache.len(), "parsing alone must not fill the cache")
	second := parseMLDSA(t, s, keys[0].pub)
	assert.NotSame(t, first.key, second.key, "nothing to share before a Verify")

	require.True(t, first.Verify(testMsg, nil, keys[0].sig))
	assert.Equal(t, 1, cache.len())
	third := parseMLDSA(t, s, keys[0].pub)
	assert.Same(t, first.key, third.key, "a parse after Verify reuses the expanded key")
	assert.True(t, third.Verify(testMsg, nil, keys[0].sig))

	require.True(t, second.Verify(testMsg, nil, keys[0].sig))
	assert.Equal(t, 1, cache.len(), "the same bytes are cached once")
}

func TestKeyCacheIsSharedByDeterministicVariant(t *testing.T) {
	s := WithPublicKeyCache(MLDSA44, 4)
	keys := signedKeys(t, s, 1)
	require.True(t, parseMLDSA(t, s, keys[0].pub).Verify(testMsg, nil, keys[0].sig))
	d := Deterministic(s)
	p := parseMLDSA(t, d, keys[0].pub)
	assert.Equal(t, d, p.Scheme(), "a key reports the scheme that parsed it")
	assert.Same(t, s.(*mldsaScheme).cache, d.(*mldsaScheme).cache)
	assert.True(t, p.Verify(testMsg, nil, keys[0].sig))
}

func TestKeyCacheIsBoundedAndGivesReferencedKeysASecondChance(t *testing.T) {
	const capacity = 4
	s := WithPublicKeyCache(MLDSA44, capacity)
	cache := s.(*mldsaScheme).cache
	keys := signedKeys(t, s, capacity+3)
	for _, k := range keys[:capacity] {
		require.True(t, parseMLDSA(t, s, k.pub).Verify(testMsg, nil, k.sig))
	}
	require.Equal(t, capacity, cache.len())
	hot := parseMLDSA(t, s, keys[0].pub) // a hit marks keys[0] referenced
	for _, k := range keys[capacity:] {
		require.True(t, parseMLDSA(t, s, k.pub).Verify(testMsg, nil, k.sig))
		require.Equal(t, capacity, cache.len(), "the cache never grows past its bound")
	}
	assert.NotNil(t, cache.get(keys[0].pub), "a referenced key survives the next sweep")
	assert.Same(t, hot.key, cache.get(keys[0].pub))
	assert.Nil(t, cache.get(keys[1].pub), "an unreferenced key is evicted first")
	for _, k := range keys[capacity:] {
		assert.NotNil(t, cache.get(k.pub), "newest keys are cached")
	}
}

func TestKeyCacheNeverConfusesKeys(t *testing.T) {
	s := WithPublicKeyCache(MLDSA44, 2)
	keys := signedKeys(t, s, 5)
	for round := range 3 {
		for i, k := range keys {
			for j, other := range keys {
				p := parseMLDSA(t, s, k.pub)
				assert.Equal(t, i == j, p.Verify(testMsg, nil, other.sig), "round %d: key %d, signature by %d", round, i, j)
				assert.Equal(t, k.pub, p.Bytes())
			}
		}
	}
}

func TestKeyCacheDisabledStillVerifies(t *testing.T) {
	s := WithPublicKeyCache(MLDSA87, 0)
	require.Nil(t, s.(*mldsaScheme).cache)
	keys := signedKeys(t, s, 2)
	a := parseMLDSA(t, s, keys[0].pub)
	require.True(t, a.Verify(testMsg, nil, keys[0].sig))
	require.False(t, a.Verify(testMsg, nil, keys[1].sig))
	b := parseMLDSA(t, s, keys[0].pub)
	assert.NotSame(t, a.key, b.key, "no sharing without a cache")
	assert.True(t, b.Verify(testMsg, nil, keys[0].sig))
}

func TestKeyCacheIsSafeForConcurrentUse(t *testing.T) {
	s := WithPublicKeyCache(MLDSA44, 3)
	keys := signedKeys(t, s, 6)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				k := keys[(g+i)%len(keys)]
				wrong := keys[(g+i+1)%len(keys)]
				p, err := s.ParsePublicKey(k.pub)
				if err != nil {
					errs <- err
					return
				}
				if !p.Verify(testMsg, nil, k.sig) || p.Verify(testMsg, nil, wrong.sig) {
					errs <- fmt.Errorf("goroutine %d, iteration %d: wrong verification result", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.LessOrEqual(t, s.(*mldsaScheme).cache.len(), 3)
}

func TestWithPublicKeyCachePassesForeignSchemesThrough(t *testing.T) {
	foreign := struct{ core.SignatureScheme }{}
	assert.Equal(t, foreign, WithPublicKeyCache(foreign, 8))
}

func TestDefaultSchemesHaveTheirOwnCaches(t *testing.T) {
	caches := map[*keyCache]string{}
	for _, s := range SignatureSchemes() {
		c := s.(*mldsaScheme).cache
		require.NotNil(t, c, s.Name())
		require.Len(t, c.slots, DefaultPublicKeyCacheEntries)
		caches[c] = s.Name()
	}
	assert.Len(t, caches, 3)
}
