package pqc

import (
	"crypto/rand"
	"encoding/asn1"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/snowmerak/clustering/core"
)

// maxContextSize is the longest FIPS 204 context string.
const maxContextSize = 255

// DefaultPublicKeyCacheEntries is how many expanded public keys each ML-DSA
// parameter set keeps. One entry holds about 24 KB (ML-DSA-44), 43 KB
// (ML-DSA-65) or 71 KB (ML-DSA-87), so a full cache of ML-DSA-65 keys is
// about 5.5 MB. It covers the roots, intermediates and peers of a cluster of
// about a hundred nodes; size it with [WithPublicKeyCache] for larger fleets.
const DefaultPublicKeyCacheEntries = 128

// ML-DSA signature schemes (FIPS 204) with hedged signing and the RFC 9881
// OIDs 2.16.840.1.101.3.4.3.17, .18 and .19. Each has its own public key cache
// of [DefaultPublicKeyCacheEntries] entries.
var (
	// MLDSA44 is ML-DSA-44 (NIST security category 2).
	MLDSA44 core.SignatureScheme = newMLDSA(mldsa44Params, DefaultPublicKeyCacheEntries)
	// MLDSA65 is ML-DSA-65 (NIST security category 3), the default.
	MLDSA65 core.SignatureScheme = newMLDSA(mldsa65Params, DefaultPublicKeyCacheEntries)
	// MLDSA87 is ML-DSA-87 (NIST security category 5), the CNSA 2.0 choice.
	MLDSA87 core.SignatureScheme = newMLDSA(mldsa87Params, DefaultPublicKeyCacheEntries)
)

// SignatureSchemes returns the ML-DSA schemes, preferred first: ML-DSA-65,
// ML-DSA-87, ML-DSA-44. The slice is a fresh copy.
func SignatureSchemes() []core.SignatureScheme {
	return []core.SignatureScheme{MLDSA65, MLDSA87, MLDSA44}
}

// Deterministic returns s with deterministic signing (the FIPS 204
// deterministic variant): the same key, message and context always give the
// same signature. Use it for tests and vectors; hedged signing is the safer
// default against fault and side-channel attacks. Keys, verification and the
// public key cache are those of s. A scheme not from this package is returned
// unchanged.
func Deterministic(s core.SignatureScheme) core.SignatureScheme {
	m, ok := s.(*mldsaScheme)
	if !ok {
		return s
	}
	d := *m
	d.deterministic = true
	return &d
}

// WithPublicKeyCache returns s with its own cache of at most entries expanded
// public keys; entries ≤ 0 disables sharing between parsed keys (each parsed
// key still expands itself once, on its first Verify). A scheme not from this
// package is returned unchanged.
func WithPublicKeyCache(s core.SignatureScheme, entries int) core.SignatureScheme {
	m, ok := s.(*mldsaScheme)
	if !ok {
		return s
	}
	c := *m
	c.cache = newKeyCache(entries)
	return &c
}

// mldsaScheme is one ML-DSA parameter set with its signing mode and cache.
type mldsaScheme struct {
	p             *mldsaParams
	deterministic bool
	cache         *keyCache
}

func newMLDSA(p *mldsaParams, cacheEntries int) *mldsaScheme {
	return &mldsaScheme{p: p, cache: newKeyCache(cacheEntries)}
}

func (s *mldsaScheme) Name() string               { return s.p.name }
func (s *mldsaScheme) OID() asn1.ObjectIdentifier { return slices.Clone(s.p.oid) }
func (s *mldsaScheme) PublicKeySize() int         { return s.p.publicKeySize }
func (s *mldsaScheme) SignatureSize() int         { return s.p.signatureSize }
func (s *mldsaScheme) SeedSize() int              { return seedSize }

// NewKeyFromSeed derives the key pair of ML-DSA.KeyGen_internal(seed).
func (s *mldsaScheme) NewKeyFromSeed(seed []byte) (core.Signer, error) {
	if len(seed) != seedSize {
		return nil, fmt.Errorf("%s seed: want %d bytes, got %d: %w", s.p.name, seedSize, len(seed), core.ErrInvalidInput)
	}
	k := &mldsaSigner{scheme: s, seed: [seedSize]byte(seed)}
	verify, raw, sign := s.p.newKey(&k.seed)
	k.sign = sign
	k.pub = &mldsaPublicKey{scheme: s, key: newExpandedKey(raw, verify)}
	return k, nil
}

// GenerateKey draws a 32-byte seed from rand (crypto/rand when nil).
func (s *mldsaScheme) GenerateKey(r io.Reader) (core.Signer, error) {
	if r == nil {
		r = rand.Reader
	}
	var seed [seedSize]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("%s keygen: read seed: %w", s.p.name, err)
	}
	return s.NewKeyFromSeed(seed[:])
}

// ParsePublicKey copies b and returns a key that is expanded on its first
// Verify, or at once from the cache when the same bytes were verified before.
// Every byte string of the right length is a well-formed ML-DSA public key.
func (s *mldsaScheme) ParsePublicKey(b []byte) (core.PublicKey, error) {
	if len(b) != s.p.publicKeySize {
		return nil, fmt.Errorf("%s public key: want %d bytes, got %d: %w", s.p.name, s.p.publicKeySize, len(b), core.ErrInvalidInput)
	}
	if k := s.cache.get(b); k != nil {
		return &mldsaPublicKey{scheme: s, key: k}, nil
	}
	k := &expandedKey{raw: slices.Clone(b), params: s.p, cache: s.cache}
	return &mldsaPublicKey{scheme: s, key: k}, nil
}

// mldsaSigner is a private key kept with its seed.
type mldsaSigner struct {
	scheme *mldsaScheme
	seed   [seedSize]byte
	sign   signFunc
	pub    *mldsaPublicKey
}

func (k *mldsaSigner) Scheme() core.SignatureScheme { return k.scheme }
func (k *mldsaSigner) Public() core.PublicKey       { return k.pub }
func (k *mldsaSigner) Seed() []byte                 { return slices.Clone(k.seed[:]) }

// Sign returns ML-DSA.Sign(sk, message, context), hedged unless the scheme
// came from Deterministic.
func (k *mldsaSigner) Sign(message, context []byte) ([]byte, error) {
	if len(context) > maxContextSize {
		return nil, fmt.Errorf("%s sign: context of %d bytes exceeds %d: %w", k.scheme.p.name, len(context), maxContextSize, core.ErrInvalidInput)
	}
	sig := make([]byte, k.scheme.p.signatureSize)
	if err := k.sign(message, context, !k.scheme.deterministic, sig); err != nil {
		return nil, fmt.Errorf("%s sign: %w", k.scheme.p.name, err)
	}
	return sig, nil
}

// mldsaPublicKey is a verification key; the expanded form it points to may be
// shared with other parsed copies of the same bytes.
type mldsaPublicKey struct {
	scheme *mldsaScheme
	key    *expandedKey
}

func (p *mldsaPublicKey) Scheme() core.SignatureScheme { return p.scheme }
func (p *mldsaPublicKey) Bytes() []byte                { return slices.Clone(p.key.raw) }

// Verify reports whether sig is ML-DSA.Verify(pk, message, sig, context).
// A context longer than 255 bytes or a signature of the wrong size never
// verifies.
func (p *mldsaPublicKey) Verify(message, context, sig []byte) bool {
	if len(context) > maxContextSize || len(sig) != p.scheme.p.signatureSize {
		return false
	}
	return p.key.verifier()(message, context, sig)
}

// expandedKey is an ML-DSA public key's raw bytes (never modified) and the
// verification function over its expanded form, computed at most once and
// then offered to the cache.
type expandedKey struct {
	raw    []byte
	params *mldsaParams
	cache  *keyCache

	once   sync.Once
	verify verifyFunc
}

// newExpandedKey returns a key whose expanded form is already known.
func newExpandedKey(raw []byte, verify verifyFunc) *expandedKey {
	k := &expandedKey{raw: raw}
	k.once.Do(func() { k.verify = verify })
	return k
}

// verifier expands the key on first use and returns its verification function.
func (k *expandedKey) verifier() verifyFunc {
	k.once.Do(func() {
		k.verify = k.params.parse(k.raw)
		k.cache.put(k)
	})
	return k.verify
}
