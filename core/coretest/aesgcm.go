package coretest

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// AES256GCM is a core.AEAD for AES-256-GCM from the standard library.
var AES256GCM core.AEAD = aes256gcm{}

type aes256gcm struct{}

func (aes256gcm) Name() string   { return "AES-256-GCM" }
func (aes256gcm) ID() uint16     { return 0x0002 }
func (aes256gcm) KeySize() int   { return 32 }
func (aes256gcm) NonceSize() int { return 12 }

func (aes256gcm) New(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("aes-256-gcm key: want 32 bytes, got %d: %w", len(key), core.ErrInvalidInput)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
