package pqc_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
)

var aeadCases = []struct {
	aead      core.AEAD
	name      string
	id        uint16
	nonceSize int
	// A known-answer vector: key, nonce, plaintext, associated data, ciphertext‖tag.
	key, nonce, plaintext, ad, sealed string
}{
	{
		// draft-irtf-cfrg-xchacha, appendix A.3.1.
		pqc.XChaCha20Poly1305, "XChaCha20-Poly1305", 0xff03, 24,
		"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
		"404142434445464748494a4b4c4d4e4f5051525354555657",
		"4c616469657320616e642047656e746c656d656e206f662074686520636c617373206f66202739393a204966204920636f756c64206f6666657220796f75206f6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73637265656e20776f756c642062652069742e",
		"50515253c0c1c2c3c4c5c6c7",
		"bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52ec0875924c1c7987947deafd8780acf49",
	},
	{
		// RFC 8439 key and nonce, empty message (golang.org/x/crypto's vector set).
		pqc.ChaCha20Poly1305, "ChaCha20-Poly1305", 0x0003, 12,
		"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
		"070000004041424344454647",
		"", "",
		"a0784d7a4716f3feb4f64e7f4b39bf04",
	},
	{
		// McGrew–Viega GCM key with a 16-byte message (Go crypto/cipher's vector set).
		pqc.AES256GCM, "AES-256-GCM", 0x0002, 12,
		"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		"54cc7dc2c37ec006bcc6d1da",
		"007c5e5b3e59df24a7c355584fc1518d", "",
		"d50b9e252b70945d4240d351677eb10f937cdaef6f2822b6a3191654ba41b197",
	},
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestAEADMatchesKnownAnswers(t *testing.T) {
	for _, c := range aeadCases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.name, c.aead.Name())
			assert.Equal(t, c.id, c.aead.ID())
			assert.Equal(t, 32, c.aead.KeySize())
			assert.Equal(t, c.nonceSize, c.aead.NonceSize())

			a, err := c.aead.New(unhex(t, c.key))
			require.NoError(t, err)
			require.Equal(t, c.nonceSize, a.NonceSize())
			sealed := a.Seal(nil, unhex(t, c.nonce), unhex(t, c.plaintext), unhex(t, c.ad))
			require.Equal(t, c.sealed, hex.EncodeToString(sealed))
			opened, err := a.Open(nil, unhex(t, c.nonce), sealed, unhex(t, c.ad))
			require.NoError(t, err)
			require.Equal(t, c.plaintext, hex.EncodeToString(opened))
		})
	}
}

func TestAEADRejectsTampering(t *testing.T) {
	for _, c := range aeadCases {
		t.Run(c.name, func(t *testing.T) {
			key := bytes.Repeat([]byte{1}, 32)
			a, err := c.aead.New(key)
			require.NoError(t, err)
			nonce := make([]byte, a.NonceSize())
			msg, ad := []byte("record payload"), []byte("header")
			sealed := a.Seal(nil, nonce, msg, ad)
			require.Len(t, sealed, len(msg)+a.Overhead())

			otherKey := bytes.Clone(key)
			otherKey[31] ^= 1
			b, err := c.aead.New(otherKey)
			require.NoError(t, err)
			flip := func(in []byte, i int) []byte {
				out := bytes.Clone(in)
				out[i] ^= 0x80
				return out
			}
			cases := []struct {
				name                 string
				open                 func(dst, nonce, ct, ad []byte) ([]byte, error)
				nonce, sealed, adata []byte
			}{
				{"ciphertext bit flipped", a.Open, nonce, flip(sealed, 0), ad},
				{"tag bit flipped", a.Open, nonce, flip(sealed, len(sealed)-1), ad},
				{"truncated", a.Open, nonce, sealed[:len(sealed)-1], ad},
				{"shorter than a tag", a.Open, nonce, sealed[:a.Overhead()-1], ad},
				{"other associated data", a.Open, nonce, sealed, []byte("headeR")},
				{"missing associated data", a.Open, nonce, sealed, nil},
				{"other nonce", a.Open, flip(nonce, len(nonce)-1), sealed, ad},
				{"other key", b.Open, nonce, sealed, ad},
			}
			for _, tc := range cases {
				_, err := tc.open(nil, tc.nonce, tc.sealed, tc.adata)
				assert.Error(t, err, tc.name)
			}
			got, err := a.Open(nil, nonce, sealed, ad)
			require.NoError(t, err)
			require.Equal(t, msg, got)
		})
	}
}

func TestAEADRejectsWrongKeySize(t *testing.T) {
	for _, c := range aeadCases {
		t.Run(c.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 16, 24, 31, 33, 64} {
				_, err := c.aead.New(make([]byte, n))
				assert.ErrorIs(t, err, core.ErrInvalidInput, "%d-byte key", n)
			}
			_, err := c.aead.New(nil)
			assert.ErrorIs(t, err, core.ErrInvalidInput, "nil key")
		})
	}
}
