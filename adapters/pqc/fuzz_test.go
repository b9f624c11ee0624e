package pqc_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
)

func FuzzParsePublicKeyMLDSA44(f *testing.F) { fuzzParsePublicKey(f, pqc.MLDSA44) }
func FuzzParsePublicKeyMLDSA65(f *testing.F) { fuzzParsePublicKey(f, pqc.MLDSA65) }
func FuzzParsePublicKeyMLDSA87(f *testing.F) { fuzzParsePublicKey(f, pqc.MLDSA87) }

// fuzzParsePublicKey parses arbitrary bytes as a public key of scheme and
// verifies arbitrary and known signatures with it, through a two-entry cache
// so that eviction runs too. Wrong sizes must be errors; nothing may panic;
// only the real key may verify the real signature.
func fuzzParsePublicKey(f *testing.F, scheme core.SignatureScheme) {
	s := pqc.WithPublicKeyCache(scheme, 2)
	key, err := s.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	require.NoError(f, err)
	msg := []byte("fuzz message")
	sig, err := key.Sign(msg, nil)
	require.NoError(f, err)
	real := key.Public().Bytes()

	f.Add(real, sig)
	f.Add(real[:len(real)-1], sig[:10])
	f.Add(append(bytes.Clone(real), 0), []byte{})
	f.Add(make([]byte, len(real)), make([]byte, len(sig)))
	f.Add([]byte{}, []byte(nil))
	f.Fuzz(func(t *testing.T, raw, fuzzSig []byte) {
		pub, err := s.ParsePublicKey(raw)
		if len(raw) != s.PublicKeySize() {
			require.ErrorIs(t, err, core.ErrInvalidInput)
			require.Nil(t, pub)
			return
		}
		require.NoError(t, err)
		require.Equal(t, raw, pub.Bytes())
		require.Equal(t, bytes.Equal(raw, real), pub.Verify(msg, nil, sig), "only the signer's key verifies its signature")
		first := pub.Verify(msg, nil, fuzzSig)
		again, err := s.ParsePublicKey(raw)
		require.NoError(t, err)
		require.Equal(t, first, again.Verify(msg, nil, fuzzSig), "a cached key verifies like a fresh one")
	})
}

// fuzzKEMs are the KEMs the fuzz targets pick from with their first byte.
var fuzzKEMs = []core.KEM{pqc.XWing, pqc.MLKEM768, pqc.MLKEM1024}

func fuzzKeys(f *testing.F) []core.KEMPrivateKey {
	keys := make([]core.KEMPrivateKey, len(fuzzKEMs))
	for i, k := range fuzzKEMs {
		dk, err := k.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, k.SeedSize()))
		require.NoError(f, err)
		keys[i] = dk
	}
	return keys
}

func FuzzDecapsulate(f *testing.F) {
	keys := fuzzKeys(f)
	for i, k := range fuzzKEMs {
		ct, _, err := k.Encapsulate(nil, keys[i].PublicKey())
		require.NoError(f, err)
		f.Add(uint8(i), ct)
		f.Add(uint8(i), ct[:len(ct)-1])
		f.Add(uint8(i), []byte{})
	}
	f.Fuzz(func(t *testing.T, which uint8, ct []byte) {
		i := int(which) % len(fuzzKEMs)
		k, dk := fuzzKEMs[i], keys[i]
		ss, err := dk.Decapsulate(ct)
		if len(ct) != k.CiphertextSize() {
			require.ErrorIs(t, err, core.ErrInvalidInput)
			require.Nil(t, ss)
			return
		}
		require.NoError(t, err, "any well-sized ciphertext decapsulates (implicit rejection)")
		require.Len(t, ss, k.SharedSecretSize())
		again, err := dk.Decapsulate(ct)
		require.NoError(t, err)
		require.Equal(t, ss, again)
	})
}

func FuzzEncapsulate(f *testing.F) {
	keys := fuzzKeys(f)
	for i, k := range fuzzKEMs {
		pk := keys[i].PublicKey()
		eseed := bytes.Repeat([]byte{7}, 64)
		f.Add(uint8(i), pk, eseed)
		f.Add(uint8(i), pk, eseed[:10])
		f.Add(uint8(i), pk[:len(pk)-1], eseed)
		f.Add(uint8(i), make([]byte, k.PublicKeySize()), eseed)
		f.Add(uint8(i), bytes.Repeat([]byte{0xff}, k.PublicKeySize()), eseed)
	}
	f.Fuzz(func(t *testing.T, which uint8, pk, eseed []byte) {
		i := int(which) % len(fuzzKEMs)
		k := fuzzKEMs[i]
		need := k.(interface{ EncapsulationSeedSize() int }).EncapsulationSeedSize()
		ct, ss, err := k.Encapsulate(bytes.NewReader(eseed), pk)
		switch {
		case len(pk) != k.PublicKeySize():
			require.ErrorIs(t, err, core.ErrInvalidInput)
			return
		case err != nil && len(eseed) >= need:
			require.ErrorIs(t, err, core.ErrInvalidInput, "with enough randomness only the key can be at fault")
			return
		case err != nil:
			return // short randomness or a rejected key
		}
		require.GreaterOrEqual(t, len(eseed), need)
		require.Len(t, ct, k.CiphertextSize())
		require.Len(t, ss, k.SharedSecretSize())
		if bytes.Equal(pk, keys[i].PublicKey()) {
			got, err := keys[i].Decapsulate(ct)
			require.NoError(t, err)
			require.Equal(t, ss, got)
		}
	})
}
