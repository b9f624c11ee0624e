package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ed25519 keys use RFC 8410's form, which crypto/x509 reads and writes: a
// cross-check in both directions.
func TestPrivateKeyInteroperatesWithCryptoX509(t *testing.T) {
	key := testKey(t, "pk")
	der, err := MarshalPrivateKey(key)
	require.NoError(t, err)
	std, err := x509.ParsePKCS8PrivateKey(der)
	require.NoError(t, err)
	require.Equal(t, key.Seed(), std.(ed25519.PrivateKey).Seed())

	stdDER, err := x509.MarshalPKCS8PrivateKey(std)
	require.NoError(t, err)
	back, err := ParsePrivateKey(stdDER, testSchemes)
	require.NoError(t, err)
	assert.Equal(t, key.Public().Bytes(), back.Public().Bytes())
}

// Other schemes (ML-DSA) use the RFC 9881 seed form: privateKey holds
// [0] IMPLICIT OCTET STRING (SIZE (32)).
func TestPrivateKeySeedForm(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	key, err := altScheme.NewKeyFromSeed(seed)
	require.NoError(t, err)
	der, err := MarshalPrivateKey(key)
	require.NoError(t, err)
	oid, err := asn1.Marshal(oidAlt)
	require.NoError(t, err)
	want := append([]byte{0x30, byte(3 + 2 + len(oid) + 2 + 34), 0x02, 0x01, 0x00, 0x30, byte(len(oid))}, oid...)
	want = append(want, 0x04, 34, 0x80, 32)
	want = append(want, seed...)
	assert.Equal(t, want, der)

	back, err := ParsePrivateKey(der, []core.SignatureScheme{altScheme})
	require.NoError(t, err)
	assert.Equal(t, key.Public().Bytes(), back.Public().Bytes())
	assert.Equal(t, altScheme, back.Scheme())
}

func TestParsePrivateKeyRejects(t *testing.T) {
	seed := bytes.Repeat([]byte{9}, 32)
	key, err := altScheme.NewKeyFromSeed(seed)
	require.NoError(t, err)
	encode := func(k oneAsymmetricKey) []byte {
		der, err := asn1.Marshal(k)
		require.NoError(t, err)
		return der
	}
	wrap := func(inner asn1.RawValue) []byte {
		b, err := asn1.Marshal(inner)
		require.NoError(t, err)
		return b
	}
	seedForm := wrap(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: seed})
	alg := pkix.AlgorithmIdentifier{Algorithm: oidAlt}
	bothForm, err := asn1.Marshal(struct{ Seed, Expanded []byte }{seed, make([]byte, 64)})
	require.NoError(t, err)
	good := encode(oneAsymmetricKey{Algorithm: alg, PrivateKey: seedForm})
	for _, tc := range []struct {
		name    string
		der     []byte
		wantErr error
	}{
		{"truncated DER", good[:len(good)-3], ErrMalformed},
		{"trailing data", append(append([]byte{}, good...), 0), ErrMalformed},
		{"unknown algorithm", encode(oneAsymmetricKey{Algorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 3}}, PrivateKey: seedForm}), ErrUnknownAlgorithm},
		{"algorithm parameters present", encode(oneAsymmetricKey{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidAlt, Parameters: asn1.NullRawValue}, PrivateKey: seedForm}), ErrUnknownAlgorithm},
		{"version 2", encode(oneAsymmetricKey{Version: 2, Algorithm: alg, PrivateKey: seedForm}), ErrMalformed},
		{"expandedKey form", encode(oneAsymmetricKey{Algorithm: alg, PrivateKey: wrap(asn1.RawValue{Tag: asn1.TagOctetString, Bytes: make([]byte, 2560)})}), ErrMalformed},
		{"both form", encode(oneAsymmetricKey{Algorithm: alg, PrivateKey: bothForm}), ErrMalformed},
		{"short seed", encode(oneAsymmetricKey{Algorithm: alg, PrivateKey: wrap(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: seed[:31]})}), ErrMalformed},
		{"v2 with a public key that does not match", encode(oneAsymmetricKey{Version: 1, Algorithm: alg, PrivateKey: seedForm,
			PublicKey: asn1.BitString{Bytes: make([]byte, 32), BitLength: 256}}), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePrivateKey(tc.der, []core.SignatureScheme{altScheme})
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorIs(t, err, core.ErrInvalidInput)
			assert.Nil(t, k)
		})
	}
	t.Run("v2 with the matching public key is accepted", func(t *testing.T) {
		der := encode(oneAsymmetricKey{Version: 1, Algorithm: alg, PrivateKey: seedForm,
			PublicKey: asn1.BitString{Bytes: key.Public().Bytes(), BitLength: 256}})
		k, err := ParsePrivateKey(der, []core.SignatureScheme{altScheme})
		require.NoError(t, err)
		assert.Equal(t, key.Public().Bytes(), k.Public().Bytes())
	})
}

func TestPrivateKeyPEM(t *testing.T) {
	key := testKey(t, "pem")
	data, err := EncodePrivateKeyPEM(key)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")))
	back, err := ParsePrivateKeyPEM(data, testSchemes, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, key.Seed(), back.Seed())

	p := newTestPKI(t)
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"wrong PEM type", EncodeCertificatesPEM(p.leaf), ErrWrongPEMType},
		{"two keys in one file", append(append([]byte{}, data...), data...), ErrMalformed},
		{"not PEM", []byte("hello"), ErrMalformed},
		{"legacy encrypted PEM headers", pem.EncodeToMemory(&pem.Block{Type: PEMPrivateKey, Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePrivateKeyPEM(tc.data, testSchemes, nil, nil)
			require.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func TestPublicKeyPEM(t *testing.T) {
	key := testKey(t, "pub")
	data := EncodePublicKeyPEM(key.Public())
	pub, err := ParsePublicKeyPEM(data, testSchemes)
	require.NoError(t, err)
	assert.Equal(t, key.Public().Bytes(), pub.Bytes())
	// crypto/x509 reads the same SubjectPublicKeyInfo.
	block, _ := pem.Decode(data)
	std, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)
	assert.Equal(t, key.Public().Bytes(), []byte(std.(ed25519.PublicKey)))

	_, err = ParsePublicKeyPEM(data, []core.SignatureScheme{altScheme})
	require.ErrorIs(t, err, ErrUnknownAlgorithm)
	_, err = ParsePublicKeyPEM(EncodeCertificatesPEM(newTestPKI(t).leaf), testSchemes)
	require.ErrorIs(t, err, ErrWrongPEMType)
}
