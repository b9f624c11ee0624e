package pqc_test

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
)

// mldsaCases lists each scheme with the sizes and OID FIPS 204 and RFC 9881 fix.
var mldsaCases = []struct {
	scheme       core.SignatureScheme
	name         string
	oid          asn1.ObjectIdentifier
	pubSize, sig int
}{
	{pqc.MLDSA44, "ML-DSA-44", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 17}, 1312, 2420},
	{pqc.MLDSA65, "ML-DSA-65", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}, 1952, 3309},
	{pqc.MLDSA87, "ML-DSA-87", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 19}, 2592, 4627},
}

// failingReader fails every read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy source down") }

func TestMLDSAReportsFIPS204SizesAndRFC9881OIDs(t *testing.T) {
	for _, c := range mldsaCases {
		t.Run(c.name, func(t *testing.T) {
			s := c.scheme
			assert.Equal(t, c.name, s.Name())
			assert.True(t, c.oid.Equal(s.OID()), "OID %v", s.OID())
			assert.Equal(t, c.pubSize, s.PublicKeySize())
			assert.Equal(t, c.sig, s.SignatureSize())
			assert.Equal(t, 32, s.SeedSize())

			s.OID()[8] = 99 // a caller scribbling on the OID must not change the scheme
			assert.True(t, c.oid.Equal(s.OID()))

			k, err := s.GenerateKey(nil)
			require.NoError(t, err)
			assert.Len(t, k.Public().Bytes(), c.pubSize)
			assert.Len(t, k.Seed(), 32)
			sig, err := k.Sign([]byte("m"), nil)
			require.NoError(t, err)
			assert.Len(t, sig, c.sig)
			assert.Equal(t, s, k.Scheme())
			assert.Equal(t, s, k.Public().Scheme())
		})
	}
}

func TestMLDSAKeyIsItsSeed(t *testing.T) {
	for _, c := range mldsaCases {
		t.Run(c.name, func(t *testing.T) {
			seed := bytes.Repeat([]byte{7}, 32)
			k, err := c.scheme.GenerateKey(bytes.NewReader(seed))
			require.NoError(t, err)
			require.Equal(t, seed, k.Seed(), "GenerateKey must use the reader's 32 bytes as the seed")

			again, err := c.scheme.NewKeyFromSeed(k.Seed())
			require.NoError(t, err)
			require.Equal(t, k.Public().Bytes(), again.Public().Bytes())

			k.Seed()[0] ^= 1
			k.Public().Bytes()[0] ^= 1
			require.Equal(t, seed, k.Seed(), "Seed must return a copy")
			require.Equal(t, again.Public().Bytes(), k.Public().Bytes(), "Bytes must return a copy")

			other, err := c.scheme.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
			require.NoError(t, err)
			require.NotEqual(t, k.Public().Bytes(), other.Public().Bytes())
		})
	}
}

func TestMLDSAHedgedSignaturesDifferAndVerify(t *testing.T) {
	for _, c := range mldsaCases {
		t.Run(c.name, func(t *testing.T) {
			k, err := c.scheme.GenerateKey(nil)
			require.NoError(t, err)
			msg := []byte("transcript hash")
			a, err := k.Sign(msg, []byte("initiator"))
			require.NoError(t, err)
			b, err := k.Sign(msg, []byte("initiator"))
			require.NoError(t, err)
			require.NotEqual(t, a, b, "hedged signing must not repeat")
			pub, err := c.scheme.ParsePublicKey(k.Public().Bytes())
			require.NoError(t, err)
			require.True(t, pub.Verify(msg, []byte("initiator"), a))
			require.True(t, pub.Verify(msg, []byte("initiator"), b))
		})
	}
}

func TestMLDSADeterministicSignaturesRepeatAndVerifyUnderHedgedScheme(t *testing.T) {
	for _, c := range mldsaCases {
		t.Run(c.name, func(t *testing.T) {
			d := pqc.Deterministic(c.scheme)
			assert.Equal(t, c.scheme.Name(), d.Name())
			assert.True(t, c.scheme.OID().Equal(d.OID()))
			k, err := d.GenerateKey(nil)
			require.NoError(t, err)
			a, err := k.Sign([]byte("m"), []byte("ctx"))
			require.NoError(t, err)
			b, err := k.Sign([]byte("m"), []byte("ctx"))
			require.NoError(t, err)
			require.Equal(t, a, b)
			pub, err := c.scheme.ParsePublicKey(k.Public().Bytes())
			require.NoError(t, err)
			require.True(t, pub.Verify([]byte("m"), []byte("ctx"), a))
		})
	}
	assert.Equal(t, coretest.Ed25519, pqc.Deterministic(coretest.Ed25519), "foreign schemes pass through")
}

func TestMLDSAContextSeparatesSignatures(t *testing.T) {
	msg := []byte("transcript hash")
	long := bytes.Repeat([]byte{'c'}, 255)
	for _, c := range mldsaCases {
		t.Run(c.name, func(t *testing.T) {
			k, err := c.scheme.GenerateKey(nil)
			require.NoError(t, err)
			pub := k.Public()
			contexts := [][]byte{nil, []byte("initiator"), []byte("responder"), long}
			for i, signCtx := range contexts {
				sig, err := k.Sign(msg, signCtx)
				require.NoError(t, err)
				for j, verifyCtx := range contexts {
					assert.Equal(t, i == j, pub.Verify(msg, verifyCtx, sig), "signed under %q, verified under %q", signCtx, verifyCtx)
				}
			}
			sig, err := k.Sign(msg, nil)
			require.NoError(t, err)
			assert.True(t, pub.Verify(msg, []byte{}, sig), "nil and empty context are the same context")
		})
	}
}

func TestMLDSAVerifyRejectsForgeries(t *testing.T) {
	for _, c := range mldsaCases {
		t.Run(c.name, func(t *testing.T) {
			k, err := c.scheme.GenerateKey(nil)
			require.NoError(t, err)
			other, err := c.scheme.GenerateKey(nil)
			require.NoError(t, err)
			msg, ctx := []byte("transcript hash"), []byte("initiator")
			sig, err := k.Sign(msg, ctx)
			require.NoError(t, err)
			pub, err := c.scheme.ParsePublicKey(k.Public().Bytes())
			require.NoError(t, err)
			require.True(t, pub.Verify(msg, ctx, sig))

			flip := func(b []byte, i int) []byte {
				b = bytes.Clone(b)
				b[i] ^= 1
				return b
			}
			cases := []struct {
				name          string
				key           core.PublicKey
				msg, ctx, sig []byte
			}{
				{"other message", pub, []byte("transcript hasi"), ctx, sig},
				{"empty message", pub, nil, ctx, sig},
				{"first signature byte flipped", pub, msg, ctx, flip(sig, 0)},
				{"middle signature byte flipped", pub, msg, ctx, flip(sig, len(sig)/2)},
				{"last signature byte flipped", pub, msg, ctx, flip(sig, len(sig)-1)},
				{"truncated signature", pub, msg, ctx, sig[:len(sig)-1]},
				{"signature with trailing byte", pub, msg, ctx, append(bytes.Clone(sig), 0)},
				{"nil signature", pub, msg, ctx, nil},
				{"zero signature", pub, msg, ctx, make([]byte, len(sig))},
				{"other key", other.Public(), msg, ctx, sig},
				{"context over 255 bytes", pub, msg, make([]byte, 256), sig},
			}
			for _, tc := range cases {
				assert.False(t, tc.key.Verify(tc.msg, tc.ctx, tc.sig), tc.name)
			}
		})
	}
}

func TestMLDSASignatureDoesNotVerifyUnderOtherParameterSet(t *testing.T) {
	k, err := pqc.MLDSA65.GenerateKey(nil)
	require.NoError(t, err)
	sig, err := k.Sign([]byte("m"), nil)
	require.NoError(t, err)
	for _, s := range []core.SignatureScheme{pqc.MLDSA44, pqc.MLDSA87} {
		other, err := s.NewKeyFromSeed(k.Seed())
		require.NoError(t, err)
		assert.False(t, other.Public().Verify([]byte("m"), nil, sig), s.Name())
	}
}

func TestMLDSARejectsBadInput(t *testing.T) {
	for _, c := range mldsaCases {
		t.Run(c.name, func(t *testing.T) {
			s := c.scheme
			k, err := s.GenerateKey(nil)
			require.NoError(t, err)
			pub := k.Public().Bytes()
			cases := []struct {
				name string
				call func() error
			}{
				{"nil seed", func() error { _, err := s.NewKeyFromSeed(nil); return err }},
				{"short seed", func() error { _, err := s.NewKeyFromSeed(make([]byte, 31)); return err }},
				{"long seed", func() error { _, err := s.NewKeyFromSeed(make([]byte, 33)); return err }},
				{"expanded private key as seed", func() error { _, err := s.NewKeyFromSeed(make([]byte, 4032)); return err }},
				{"nil public key", func() error { _, err := s.ParsePublicKey(nil); return err }},
				{"empty public key", func() error { _, err := s.ParsePublicKey([]byte{}); return err }},
				{"truncated public key", func() error { _, err := s.ParsePublicKey(pub[:len(pub)-1]); return err }},
				{"public key with trailing byte", func() error { _, err := s.ParsePublicKey(append(bytes.Clone(pub), 0)); return err }},
				{"context over 255 bytes", func() error { _, err := k.Sign([]byte("m"), make([]byte, 256)); return err }},
			}
			for _, tc := range cases {
				err := tc.call()
				assert.ErrorIs(t, err, core.ErrInvalidInput, tc.name)
				if err != nil {
					assert.Contains(t, err.Error(), c.name, "%s: error names the scheme", tc.name)
				}
			}
			for _, other := range mldsaCases {
				if other.pubSize == c.pubSize {
					continue
				}
				otherKey, err := other.scheme.GenerateKey(nil)
				require.NoError(t, err)
				_, err = s.ParsePublicKey(otherKey.Public().Bytes())
				assert.ErrorIs(t, err, core.ErrInvalidInput, "%s key", other.name)
			}
		})
	}
}

func TestMLDSAGenerateKeyReportsReaderFailure(t *testing.T) {
	for _, c := range mldsaCases {
		_, err := c.scheme.GenerateKey(failingReader{})
		require.Error(t, err, c.name)
		_, err = c.scheme.GenerateKey(bytes.NewReader(make([]byte, 31)))
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, c.name)
	}
}

func TestSignatureSchemesPreferMLDSA65(t *testing.T) {
	got := pqc.SignatureSchemes()
	require.Equal(t, []core.SignatureScheme{pqc.MLDSA65, pqc.MLDSA87, pqc.MLDSA44}, got)
	got[0] = nil
	require.Equal(t, pqc.MLDSA65, pqc.SignatureSchemes()[0], "callers get a fresh slice")
	for _, c := range mldsaCases {
		s, ok := core.SchemeByOID(pqc.SignatureSchemes(), c.oid)
		require.True(t, ok)
		require.Equal(t, c.scheme, s)
	}
}
