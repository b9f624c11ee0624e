package pqc

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/snowmerak/clustering/core"
)

// AEADs with their wire IDs. ChaCha20-Poly1305 (0x0003) and AES-256-GCM
// (0x0002) use their HPKE AEAD IDs. XChaCha20-Poly1305 has no HPKE ID; it
// uses 0xFF03, a value this project assigns ("0xFF" marks it private, "03"
// recalls ChaCha20-Poly1305) that IANA has not allocated.
var (
	// XChaCha20Poly1305 is XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha):
	// 32-byte key, 24-byte nonce. The default record cipher.
	XChaCha20Poly1305 core.AEAD = &aeadScheme{name: "XChaCha20-Poly1305", id: 0xff03,
		nonceSize: chacha20poly1305.NonceSizeX, new: chacha20poly1305.NewX}
	// ChaCha20Poly1305 is ChaCha20-Poly1305 (RFC 8439): 32-byte key, 12-byte nonce.
	ChaCha20Poly1305 core.AEAD = &aeadScheme{name: "ChaCha20-Poly1305", id: 0x0003,
		nonceSize: chacha20poly1305.NonceSize, new: chacha20poly1305.New}
	// AES256GCM is AES-256 in GCM mode (NIST SP 800-38D): 32-byte key,
	// 12-byte nonce, 16-byte tag. The CNSA 2.0 record cipher.
	AES256GCM core.AEAD = &aeadScheme{name: "AES-256-GCM", id: 0x0002,
		nonceSize: 12, new: newAESGCM}
)

// aeadKeySize is the key length of every AEAD here.
const aeadKeySize = 32

// aeadScheme is one AEAD; new is only called with keys of aeadKeySize bytes.
type aeadScheme struct {
	name      string
	id        uint16
	nonceSize int
	new       func(key []byte) (cipher.AEAD, error)
}

func (a *aeadScheme) Name() string   { return a.name }
func (a *aeadScheme) ID() uint16     { return a.id }
func (a *aeadScheme) KeySize() int   { return aeadKeySize }
func (a *aeadScheme) NonceSize() int { return a.nonceSize }

// New returns a cipher for key, which must be 32 bytes.
func (a *aeadScheme) New(key []byte) (cipher.AEAD, error) {
	if len(key) != aeadKeySize {
		return nil, fmt.Errorf("%s key: want %d bytes, got %d: %w", a.name, aeadKeySize, len(key), core.ErrInvalidInput)
	}
	c, err := a.new(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.name, err)
	}
	return c, nil
}

func newAESGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
