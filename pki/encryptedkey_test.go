package pki

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingKDF stands in for scrypt in this package's tests (pki may not
// import golang.org/x/crypto; cmd/cpki tests the real scrypt). It binds every
// parameter into the derived key and records what it was asked for.
type recordingKDF struct {
	calls   int
	n, r, p int
	salt    []byte
}

func (k *recordingKDF) kdf(password, salt []byte, n, r, p, keyLen int) ([]byte, error) {
	k.calls++
	k.n, k.r, k.p, k.salt = n, r, p, salt
	return pbkdf2.Key(sha256.New, string(password), fmt.Appendf(salt, "|%d|%d|%d", n, r, p), 1, keyLen)
}

var testScryptParams = ScryptParams{LogN: 10, R: 8, P: 1}

func TestEncryptedPrivateKeyRoundTrip(t *testing.T) {
	key := testKey(t, "enc")
	kdf := &recordingKDF{}
	data, err := EncodeEncryptedPrivateKeyPEM(key, []byte("correct horse"), kdf.kdf, testScryptParams, nil)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.Equal(t, PEMEncryptedPrivateKey, block.Type)
	assert.NotContains(t, string(block.Bytes), string(key.Seed()))

	kdf2 := &recordingKDF{}
	back, err := ParsePrivateKeyPEM(data, testSchemes, kdf2.kdf, func() ([]byte, error) { return []byte("correct horse"), nil })
	require.NoError(t, err)
	assert.Equal(t, key.Seed(), back.Seed())
	// The parameters travel in the file.
	assert.Equal(t, []int{1 << 10, 8, 1}, []int{kdf2.n, kdf2.r, kdf2.p})
	assert.Equal(t, kdf.salt, kdf2.salt)
	assert.Len(t, kdf2.salt, scryptSaltSize)
}

func TestEncryptionIsRandomized(t *testing.T) {
	key := testKey(t, "enc")
	kdf := &recordingKDF{}
	a, err := EncryptPrivateKey(key, []byte("pw"), kdf.kdf, testScryptParams, nil)
	require.NoError(t, err)
	b, err := EncryptPrivateKey(key, []byte("pw"), kdf.kdf, testScryptParams, nil)
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "salt and nonce must be fresh")
}

func TestDecryptPrivateKeyRejects(t *testing.T) {
	key := testKey(t, "enc")
	kdf := &recordingKDF{}
	der, err := EncryptPrivateKey(key, []byte("pw"), kdf.kdf, testScryptParams, nil)
	require.NoError(t, err)
	var info encryptedPrivateKeyInfo
	_, err = asn1.Unmarshal(der, &info)
	require.NoError(t, err)
	var p2 pbes2Params
	_, err = asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &p2)
	require.NoError(t, err)
	// rebuild re-encodes the file with other scrypt or GCM parameters.
	rebuild := func(sp *scryptParams, gp *gcmParams, kdfOID asn1.ObjectIdentifier) []byte {
		p := p2
		if sp != nil {
			b, err := asn1.Marshal(*sp)
			require.NoError(t, err)
			p.KeyDerivationFunc.Parameters = asn1.RawValue{FullBytes: b}
		}
		if gp != nil {
			b, err := asn1.Marshal(*gp)
			require.NoError(t, err)
			p.EncryptionScheme.Parameters = asn1.RawValue{FullBytes: b}
		}
		if kdfOID != nil {
			p.KeyDerivationFunc.Algorithm = kdfOID
		}
		pb, err := asn1.Marshal(p)
		require.NoError(t, err)
		i := info
		i.Algorithm.Parameters = asn1.RawValue{FullBytes: pb}
		out, err := asn1.Marshal(i)
		require.NoError(t, err)
		return out
	}
	salt := make([]byte, 16)
	for _, tc := range []struct {
		name     string
		der      []byte
		password string
		wantErr  error
		kdfCalls int
	}{
		{"wrong password", der, "wrong", ErrWrongPassword, 1},
		{"no password", der, "", ErrPasswordRequired, 0},
		{"tampered ciphertext", flip(der, len(der)-1), "pw", ErrWrongPassword, 1},
		{"truncated", der[:len(der)-1], "pw", ErrMalformed, 0},
		{"PBKDF2 instead of scrypt", rebuild(nil, nil, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}), "pw", ErrUnknownAlgorithm, 0},
		{"hostile scrypt cost", rebuild(&scryptParams{Salt: salt, CostParameter: 1 << 30, BlockSize: 8, Parallelization: 1}, nil, nil), "pw", core.ErrInvalidInput, 0},
		{"hostile block size", rebuild(&scryptParams{Salt: salt, CostParameter: 1 << 10, BlockSize: 1 << 40, Parallelization: 1}, nil, nil), "pw", core.ErrInvalidInput, 0},
		{"hostile parallelism", rebuild(&scryptParams{Salt: salt, CostParameter: 1 << 10, BlockSize: 8, Parallelization: 1 << 20}, nil, nil), "pw", core.ErrInvalidInput, 0},
		// 128·r·N is exactly 1 GiB, but scrypt also allocates 256·r for its
		// scratch block and 128·r·p for B: about 10 GiB in all.
		{"hostile block size with the smallest N", rebuild(&scryptParams{Salt: salt, CostParameter: 2, BlockSize: 1 << 22, Parallelization: 16}, nil, nil), "pw", core.ErrInvalidInput, 0},
		{"hostile block size and parallelism", rebuild(&scryptParams{Salt: salt, CostParameter: 1 << 10, BlockSize: 1 << 12, Parallelization: 16}, nil, nil), "pw", core.ErrInvalidInput, 0},
		{"work far beyond the default", rebuild(&scryptParams{Salt: salt, CostParameter: 1 << 20, BlockSize: 8, Parallelization: 16}, nil, nil), "pw", core.ErrInvalidInput, 0},
		{"N not a power of two", rebuild(&scryptParams{Salt: salt, CostParameter: 1000, BlockSize: 8, Parallelization: 1}, nil, nil), "pw", ErrMalformed, 0},
		{"short salt", rebuild(&scryptParams{Salt: salt[:4], CostParameter: 1 << 10, BlockSize: 8, Parallelization: 1}, nil, nil), "pw", ErrMalformed, 0},
		{"short GCM tag", rebuild(nil, &gcmParams{Nonce: make([]byte, 12), ICVLen: 12}, nil), "pw", ErrMalformed, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &recordingKDF{}
			got, err := DecryptPrivateKey(tc.der, []byte(tc.password), k.kdf, testSchemes)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, got)
			assert.Equal(t, tc.kdfCalls, k.calls, "scrypt must not run on parameters that fail a cheap check")
		})
	}
}

func TestParsePrivateKeyPEMPassword(t *testing.T) {
	key := testKey(t, "enc")
	kdf := &recordingKDF{}
	data, err := EncodeEncryptedPrivateKeyPEM(key, []byte("pw"), kdf.kdf, testScryptParams, nil)
	require.NoError(t, err)

	_, err = ParsePrivateKeyPEM(data, testSchemes, kdf.kdf, nil)
	require.ErrorIs(t, err, ErrPasswordRequired)
	_, err = ParsePrivateKeyPEM(data, testSchemes, nil, func() ([]byte, error) { return []byte("pw"), nil })
	require.ErrorIs(t, err, ErrPasswordRequired)
	boom := errors.New("no terminal")
	_, err = ParsePrivateKeyPEM(data, testSchemes, kdf.kdf, func() ([]byte, error) { return nil, boom })
	require.ErrorIs(t, err, boom)
	_, err = ParsePrivateKeyPEM(data, testSchemes, kdf.kdf, func() ([]byte, error) { return []byte("nope"), nil })
	require.ErrorIs(t, err, ErrWrongPassword)
	assert.Contains(t, err.Error(), "wrong password")

	plain, err := EncodePrivateKeyPEM(key)
	require.NoError(t, err)
	called := false
	_, err = ParsePrivateKeyPEM(plain, testSchemes, kdf.kdf, func() ([]byte, error) { called = true; return nil, nil })
	require.NoError(t, err)
	assert.False(t, called, "no password prompt for an unencrypted key")
}

func TestEncryptPrivateKeyRefuses(t *testing.T) {
	key := testKey(t, "enc")
	kdf := &recordingKDF{}
	_, err := EncryptPrivateKey(key, nil, kdf.kdf, testScryptParams, nil)
	require.ErrorIs(t, err, core.ErrInvalidInput)
	_, err = EncryptPrivateKey(key, []byte("pw"), nil, testScryptParams, nil)
	require.ErrorIs(t, err, core.ErrInvalidInput)
	_, err = EncryptPrivateKey(key, []byte("pw"), kdf.kdf, ScryptParams{LogN: 25, R: 8, P: 1}, nil)
	require.ErrorIs(t, err, core.ErrInvalidInput)
	assert.Zero(t, kdf.calls)
	assert.NoError(t, DefaultScryptParams().validate())
}
