package pqc

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/cloudflare/circl/kem"
	"github.com/cloudflare/circl/kem/mlkem/mlkem1024"
	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/cloudflare/circl/kem/xwing"

	"github.com/snowmerak/clustering/core"
)

// Key encapsulation mechanisms, identified by their HPKE KEM IDs (IANA HPKE
// registry: ML-KEM-768 0x0041, ML-KEM-1024 0x0042, X-Wing 0x647A).
var (
	// XWing is X-Wing (draft-connolly-cfrg-xwing-kem): X25519 and ML-KEM-768
	// combined with SHA3-256, secure while either holds. 32-byte seed, 64-byte
	// encapsulation seed (ML-KEM's m, then the ephemeral X25519 scalar).
	XWing core.KEM = &kemScheme{name: "X-Wing", id: 0x647a, s: xwing.Scheme()}
	// MLKEM768 is ML-KEM-768 (FIPS 203). 64-byte seed d‖z, 32-byte
	// encapsulation seed m.
	MLKEM768 core.KEM = &kemScheme{name: "ML-KEM-768", id: 0x0041, s: mlkem768.Scheme()}
	// MLKEM1024 is ML-KEM-1024 (FIPS 203, the CNSA 2.0 choice). 64-byte seed
	// d‖z, 32-byte encapsulation seed m.
	MLKEM1024 core.KEM = &kemScheme{name: "ML-KEM-1024", id: 0x0042, s: mlkem1024.Scheme()}
)

// kemScheme adapts a circl KEM to core.KEM, checking every size before circl
// sees it (circl panics on some wrong sizes).
type kemScheme struct {
	name string
	id   uint16
	s    kem.Scheme
}

func (k *kemScheme) Name() string          { return k.name }
func (k *kemScheme) ID() uint16            { return k.id }
func (k *kemScheme) PublicKeySize() int    { return k.s.PublicKeySize() }
func (k *kemScheme) CiphertextSize() int   { return k.s.CiphertextSize() }
func (k *kemScheme) SharedSecretSize() int { return k.s.SharedKeySize() }
func (k *kemScheme) SeedSize() int         { return k.s.SeedSize() }

// EncapsulationSeedSize is how many bytes Encapsulate reads from its reader.
func (k *kemScheme) EncapsulationSeedSize() int { return k.s.EncapsulationSeedSize() }

// NewKeyFromSeed derives the decapsulation key deterministically from seed
// (ML-KEM.KeyGen_internal(d, z) for ML-KEM, the X-Wing seed for X-Wing).
func (k *kemScheme) NewKeyFromSeed(seed []byte) (core.KEMPrivateKey, error) {
	if len(seed) != k.s.SeedSize() {
		return nil, fmt.Errorf("%s seed: want %d bytes, got %d: %w", k.name, k.s.SeedSize(), len(seed), core.ErrInvalidInput)
	}
	pk, sk := k.s.DeriveKeyPair(seed)
	pub, err := pk.MarshalBinary()
	clearAVXState()
	if err != nil {
		return nil, fmt.Errorf("%s keygen: pack public key: %w", k.name, err)
	}
	return &kemPrivateKey{scheme: k, sk: sk, pub: pub}, nil
}

// GenerateKey draws a seed from rand (crypto/rand when nil).
func (k *kemScheme) GenerateKey(r io.Reader) (core.KEMPrivateKey, error) {
	seed, err := k.read(r, k.s.SeedSize(), "keygen")
	if err != nil {
		return nil, err
	}
	return k.NewKeyFromSeed(seed)
}

// Encapsulate checks publicKey (size, and the FIPS 203 modulus check of its
// ML-KEM part), then reads exactly EncapsulationSeedSize bytes from rand
// (crypto/rand when nil) and encapsulates deterministically from them.
func (k *kemScheme) Encapsulate(r io.Reader, publicKey []byte) (ciphertext, sharedSecret []byte, err error) {
	if len(publicKey) != k.s.PublicKeySize() {
		return nil, nil, fmt.Errorf("%s encapsulate: public key: want %d bytes, got %d: %w", k.name, k.s.PublicKeySize(), len(publicKey), core.ErrInvalidInput)
	}
	pk, err := k.s.UnmarshalBinaryPublicKey(publicKey)
	clearAVXState()
	if err != nil {
		return nil, nil, fmt.Errorf("%s encapsulate: public key: %v: %w", k.name, err, core.ErrInvalidInput)
	}
	seed, err := k.read(r, k.s.EncapsulationSeedSize(), "encapsulate")
	if err != nil {
		return nil, nil, err
	}
	ct, ss, err := k.s.EncapsulateDeterministically(pk, seed)
	clearAVXState()
	if err != nil {
		return nil, nil, fmt.Errorf("%s encapsulate: %w", k.name, err)
	}
	return ct, ss, nil
}

// read draws n bytes from r, crypto/rand when r is nil.
func (k *kemScheme) read(r io.Reader, n int, op string) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%s %s: read randomness: %w", k.name, op, err)
	}
	return b, nil
}

// kemPrivateKey is a decapsulation key with its packed encapsulation key.
type kemPrivateKey struct {
	scheme *kemScheme
	sk     kem.PrivateKey
	pub    []byte
}

func (p *kemPrivateKey) PublicKey() []byte { return append([]byte(nil), p.pub...) }

// Decapsulate returns the shared secret; a tampered ciphertext of the right
// size yields an unrelated secret (ML-KEM implicit rejection), not an error.
func (p *kemPrivateKey) Decapsulate(ciphertext []byte) ([]byte, error) {
	s := p.scheme.s
	if len(ciphertext) != s.CiphertextSize() {
		return nil, fmt.Errorf("%s decapsulate: ciphertext: want %d bytes, got %d: %w", p.scheme.name, s.CiphertextSize(), len(ciphertext), core.ErrInvalidInput)
	}
	ss, err := s.Decapsulate(p.sk, ciphertext)
	clearAVXState()
	if err != nil {
		return nil, fmt.Errorf("%s decapsulate: %w", p.scheme.name, err)
	}
	return ss, nil
}
