package core

import (
	"crypto/cipher"
	"encoding/asn1"
	"io"
)

// SignatureScheme is a signature algorithm such as ML-DSA-65. Keys are kept as
// their seed, so a private key file holds SeedSize bytes.
type SignatureScheme interface {
	// Name is the algorithm's conventional name, e.g. "ML-DSA-65".
	Name() string
	// OID is the algorithm identifier used in X.509 (RFC 9881 for ML-DSA).
	OID() asn1.ObjectIdentifier
	// PublicKeySize is the length of PublicKey.Bytes.
	PublicKeySize() int
	// SignatureSize is the length of a signature.
	SignatureSize() int
	// SeedSize is the length of the seed NewKeyFromSeed takes.
	SeedSize() int
	// NewKeyFromSeed derives a key pair deterministically from seed.
	NewKeyFromSeed(seed []byte) (Signer, error)
	// GenerateKey draws a seed from rand (crypto/rand when nil) and derives a key pair.
	GenerateKey(rand io.Reader) (Signer, error)
	// ParsePublicKey decodes a raw public key as PublicKey.Bytes returns it.
	ParsePublicKey(b []byte) (PublicKey, error)
}

// Signer is a private signing key.
type Signer interface {
	// Scheme is the algorithm of this key.
	Scheme() SignatureScheme
	// Public returns the matching public key.
	Public() PublicKey
	// Seed returns a copy of the seed the key was derived from.
	Seed() []byte
	// Sign signs message under the context string (empty for none); the
	// context separates uses of one key (FIPS 204 ctx, at most 255 bytes).
	Sign(message, context []byte) ([]byte, error)
}

// PublicKey is a signature verification key.
type PublicKey interface {
	// Scheme is the algorithm of this key.
	Scheme() SignatureScheme
	// Bytes returns the raw encoding of the key (not a SubjectPublicKeyInfo).
	Bytes() []byte
	// Verify reports whether sig is a valid signature of message under context.
	Verify(message, context, sig []byte) bool
}

// KEM is a key encapsulation mechanism such as X-Wing or ML-KEM-768.
type KEM interface {
	// Name is the algorithm's conventional name, e.g. "X-Wing".
	Name() string
	// ID is the algorithm's wire identifier (the HPKE KEM ID where one exists).
	ID() uint16
	// PublicKeySize is the length of an encapsulation key.
	PublicKeySize() int
	// CiphertextSize is the length of a ciphertext.
	CiphertextSize() int
	// SharedSecretSize is the length of the shared secret.
	SharedSecretSize() int
	// SeedSize is the length of the seed NewKeyFromSeed takes.
	SeedSize() int
	// NewKeyFromSeed derives a decapsulation key deterministically from seed.
	NewKeyFromSeed(seed []byte) (KEMPrivateKey, error)
	// GenerateKey draws a fresh decapsulation key from rand (crypto/rand when nil).
	GenerateKey(rand io.Reader) (KEMPrivateKey, error)
	// Encapsulate makes a shared secret and its ciphertext for publicKey,
	// drawing its randomness from rand (crypto/rand when nil).
	Encapsulate(rand io.Reader, publicKey []byte) (ciphertext, sharedSecret []byte, err error)
}

// KEMPrivateKey is a decapsulation key.
type KEMPrivateKey interface {
	// PublicKey returns the encapsulation key.
	PublicKey() []byte
	// Decapsulate recovers the shared secret from ciphertext. A well-formed but
	// tampered ciphertext yields an unrelated secret (implicit rejection), not an
	// error; a ciphertext of the wrong size is an error.
	Decapsulate(ciphertext []byte) ([]byte, error)
}

// AEAD is an authenticated cipher with associated data.
type AEAD interface {
	// Name is the algorithm's conventional name, e.g. "XChaCha20-Poly1305".
	Name() string
	// ID is the algorithm's wire identifier (the HPKE AEAD ID where one exists).
	ID() uint16
	// KeySize is the key length New takes.
	KeySize() int
	// NonceSize is the nonce length of the ciphers New returns.
	NonceSize() int
	// New returns a cipher for key; a key of the wrong size is an error.
	New(key []byte) (cipher.AEAD, error)
}
