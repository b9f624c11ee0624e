package pqc_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
)

// kemCases lists each KEM with its HPKE ID and the sizes its spec fixes.
var kemCases = []struct {
	kem                          core.KEM
	name                         string
	id                           uint16
	pub, ct, ss, seed, encapSeed int
}{
	{pqc.XWing, "X-Wing", 0x647a, 1216, 1120, 32, 32, 64},
	{pqc.MLKEM768, "ML-KEM-768", 0x0041, 1184, 1088, 32, 64, 32},
	{pqc.MLKEM1024, "ML-KEM-1024", 0x0042, 1568, 1568, 32, 64, 32},
}

func TestKEMReportsSpecSizesAndHPKEIDs(t *testing.T) {
	for _, c := range kemCases {
		t.Run(c.name, func(t *testing.T) {
			k := c.kem
			assert.Equal(t, c.name, k.Name())
			assert.Equal(t, c.id, k.ID())
			assert.Equal(t, c.pub, k.PublicKeySize())
			assert.Equal(t, c.ct, k.CiphertextSize())
			assert.Equal(t, c.ss, k.SharedSecretSize())
			assert.Equal(t, c.seed, k.SeedSize())
			es, ok := k.(interface{ EncapsulationSeedSize() int })
			require.True(t, ok)
			assert.Equal(t, c.encapSeed, es.EncapsulationSeedSize())
		})
	}
}

func TestKEMRoundTripAndImplicitRejection(t *testing.T) {
	for _, c := range kemCases {
		t.Run(c.name, func(t *testing.T) {
			dk, err := c.kem.GenerateKey(nil)
			require.NoError(t, err)
			pk := dk.PublicKey()
			require.Len(t, pk, c.pub)
			ct, ss, err := c.kem.Encapsulate(nil, pk)
			require.NoError(t, err)
			require.Len(t, ct, c.ct)
			require.Len(t, ss, c.ss)
			got, err := dk.Decapsulate(ct)
			require.NoError(t, err)
			require.Equal(t, ss, got)

			ct2, ss2, err := c.kem.Encapsulate(nil, pk)
			require.NoError(t, err)
			require.NotEqual(t, ct, ct2, "fresh randomness per encapsulation")
			require.NotEqual(t, ss, ss2)

			// Flip a bit at the start, in the middle and at the end (for X-Wing,
			// the last 32 bytes are the X25519 share).
			for _, i := range []int{0, c.ct / 2, c.ct - 1} {
				bad := bytes.Clone(ct)
				bad[i] ^= 0x01
				rejected, err := dk.Decapsulate(bad)
				require.NoError(t, err, "tampering is not an error (implicit rejection)")
				require.Len(t, rejected, c.ss)
				require.NotEqual(t, ss, rejected, "byte %d flipped must change the secret", i)
				again, err := dk.Decapsulate(bad)
				require.NoError(t, err)
				require.Equal(t, rejected, again, "implicit rejection is deterministic")
			}

			other, err := c.kem.GenerateKey(nil)
			require.NoError(t, err)
			wrong, err := other.Decapsulate(ct)
			require.NoError(t, err)
			require.NotEqual(t, ss, wrong, "another key must not recover the secret")
		})
	}
}

func TestKEMKeysDeriveFromSeedAndReader(t *testing.T) {
	for _, c := range kemCases {
		t.Run(c.name, func(t *testing.T) {
			seed := bytes.Repeat([]byte{3}, c.seed)
			a, err := c.kem.NewKeyFromSeed(seed)
			require.NoError(t, err)
			b, err := c.kem.GenerateKey(bytes.NewReader(seed))
			require.NoError(t, err)
			require.Equal(t, a.PublicKey(), b.PublicKey(), "GenerateKey uses the reader's bytes as the seed")
			other, err := c.kem.NewKeyFromSeed(bytes.Repeat([]byte{4}, c.seed))
			require.NoError(t, err)
			require.NotEqual(t, a.PublicKey(), other.PublicKey())

			a.PublicKey()[0] ^= 1
			require.Equal(t, b.PublicKey(), a.PublicKey(), "PublicKey returns a copy")
		})
	}
}

func TestKEMEncapsulateReadsExactlyItsSeed(t *testing.T) {
	for _, c := range kemCases {
		t.Run(c.name, func(t *testing.T) {
			dk, err := c.kem.NewKeyFromSeed(make([]byte, c.seed))
			require.NoError(t, err)
			eseed := bytes.Repeat([]byte{9}, c.encapSeed)
			r := bytes.NewReader(append(bytes.Clone(eseed), 1, 2, 3))
			ct, ss, err := c.kem.Encapsulate(r, dk.PublicKey())
			require.NoError(t, err)
			require.Equal(t, 3, r.Len(), "exactly the encapsulation seed is read")
			ct2, ss2, err := c.kem.Encapsulate(bytes.NewReader(eseed), dk.PublicKey())
			require.NoError(t, err)
			require.Equal(t, ct, ct2, "same seed, same ciphertext")
			require.Equal(t, ss, ss2)

			_, _, err = c.kem.Encapsulate(bytes.NewReader(eseed[:c.encapSeed-1]), dk.PublicKey())
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			_, _, err = c.kem.Encapsulate(failingReader{}, dk.PublicKey())
			require.Error(t, err)
			_, err = c.kem.GenerateKey(failingReader{})
			require.Error(t, err)
		})
	}
}

func TestKEMRejectsBadInput(t *testing.T) {
	for _, c := range kemCases {
		t.Run(c.name, func(t *testing.T) {
			k := c.kem
			dk, err := k.GenerateKey(nil)
			require.NoError(t, err)
			pk := dk.PublicKey()
			ct, _, err := k.Encapsulate(nil, pk)
			require.NoError(t, err)

			// FIPS 203 §7.2 modulus check: a coefficient of 0xFFF ≥ q = 3329.
			unreduced := bytes.Clone(pk)
			unreduced[0], unreduced[1] = 0xff, 0x0f

			cases := []struct {
				name string
				call func() error
			}{
				{"nil seed", func() error { _, err := k.NewKeyFromSeed(nil); return err }},
				{"short seed", func() error { _, err := k.NewKeyFromSeed(make([]byte, c.seed-1)); return err }},
				{"long seed", func() error { _, err := k.NewKeyFromSeed(make([]byte, c.seed+1)); return err }},
				{"nil public key", func() error { _, _, err := k.Encapsulate(nil, nil); return err }},
				{"truncated public key", func() error { _, _, err := k.Encapsulate(nil, pk[:len(pk)-1]); return err }},
				{"public key with trailing byte", func() error { _, _, err := k.Encapsulate(nil, append(bytes.Clone(pk), 0)); return err }},
				{"public key failing the modulus check", func() error { _, _, err := k.Encapsulate(nil, unreduced); return err }},
				{"nil ciphertext", func() error { _, err := dk.Decapsulate(nil); return err }},
				{"empty ciphertext", func() error { _, err := dk.Decapsulate([]byte{}); return err }},
				{"truncated ciphertext", func() error { _, err := dk.Decapsulate(ct[:len(ct)-1]); return err }},
				{"ciphertext with trailing byte", func() error { _, err := dk.Decapsulate(append(bytes.Clone(ct), 0)); return err }},
			}
			for _, tc := range cases {
				err := tc.call()
				assert.ErrorIs(t, err, core.ErrInvalidInput, tc.name)
				if err != nil {
					assert.Contains(t, err.Error(), c.name, "%s: error names the KEM", tc.name)
				}
			}
		})
	}
}

func TestKEMModulusCheckDoesNotConsumeRandomness(t *testing.T) {
	dk, err := pqc.MLKEM768.GenerateKey(nil)
	require.NoError(t, err)
	pk := dk.PublicKey()
	pk[0], pk[1] = 0xff, 0x0f
	r := bytes.NewReader(make([]byte, 32))
	_, _, err = pqc.MLKEM768.Encapsulate(r, pk)
	require.ErrorIs(t, err, core.ErrInvalidInput)
	require.Equal(t, 32, r.Len(), "a rejected key must not consume randomness")
}
