package pki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"

	"github.com/snowmerak/clustering/core"
)

// Encrypted private keys are PKCS#8 EncryptedPrivateKeyInfo (RFC 5958) with
// PBES2 (RFC 8018): the key-encryption key comes from scrypt (RFC 7914, OID
// 1.3.6.1.4.1.11591.4.11) and encrypts the PKCS#8 DER with AES-256-GCM (RFC
// 5084, 12-byte nonce, 16-byte tag). Salt, cost, nonce and tag length are all
// in the file, so the parameters can be raised without breaking old files.
//
// This package may not import golang.org/x/crypto, and scrypt is not in the
// standard library, so the caller passes scrypt in as a ScryptFunc:
// golang.org/x/crypto/scrypt.Key has exactly that signature.

var (
	oidPBES2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidScrypt    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidAES256GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}
)

// ScryptFunc derives keyLen bytes from password and salt with scrypt.
// golang.org/x/crypto/scrypt.Key is one.
type ScryptFunc func(password, salt []byte, N, r, p, keyLen int) ([]byte, error)

// ScryptParams are scrypt's cost parameters: N = 2^LogN, memory 128·R·N bytes.
type ScryptParams struct {
	LogN, R, P int
}

// DefaultScryptParams returns N=2^17, r=8, p=1: 128 MiB and roughly a
// quarter to half a second per derivation, in line with age's and
// nebula-cert's password costs.
func DefaultScryptParams() ScryptParams { return ScryptParams{LogN: 17, R: 8, P: 1} }

// Bounds on parameters read from a file, so a hostile key file cannot make
// the reader allocate or compute without limit. scrypt allocates 128·r·N
// bytes for its table plus 128·r·(p+2) for B and scratch, so r is bounded
// too: otherwise N=2, r=2^22, p=16 keeps the table at 1 GiB while B takes
// 8 GiB. Work grows with N·r·p; the cap is four times the costliest
// single-lane derivation the memory bound allows (age's limit, N=2^22 r=8).
const (
	maxScryptMemory = 1 << 30 // 128·r·N
	maxScryptR      = 32      // B and scratch ≤ 128·32·18 bytes = 72 KiB
	maxScryptP      = 16
	maxScryptWork   = 1 << 25 // N·r·p
	scryptSaltSize  = 16
	gcmNonceSize    = 12
	gcmTagSize      = 16
	kekSize         = 32
)

func (p ScryptParams) validate() error {
	if p.LogN < 1 || p.LogN > 30 || p.R < 1 || p.R > maxScryptR || p.P < 1 || p.P > maxScryptP ||
		128*p.R > maxScryptMemory>>p.LogN || p.P*p.R > maxScryptWork>>p.LogN {
		return fmt.Errorf("scrypt parameters logN=%d r=%d p=%d out of range (memory ≤ %d MiB, r ≤ %d, p ≤ %d, N·r·p ≤ 2^25): %w",
			p.LogN, p.R, p.P, maxScryptMemory>>20, maxScryptR, maxScryptP, core.ErrInvalidInput)
	}
	return nil
}

type rawAlgorithm struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm     rawAlgorithm
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc rawAlgorithm
	EncryptionScheme  rawAlgorithm
}

type scryptParams struct {
	Salt            []byte
	CostParameter   int
	BlockSize       int
	Parallelization int
	KeyLength       int `asn1:"optional"`
}

type gcmParams struct {
	Nonce  []byte
	ICVLen int `asn1:"default:12"`
}

// EncryptPrivateKey returns key as EncryptedPrivateKeyInfo DER under
// password. rnd supplies salt and nonce (crypto/rand when nil).
func EncryptPrivateKey(key core.Signer, password []byte, kdf ScryptFunc, params ScryptParams, rnd io.Reader) ([]byte, error) {
	if len(password) == 0 {
		return nil, fmt.Errorf("encrypt private key: empty password: %w", core.ErrInvalidInput)
	}
	if kdf == nil {
		return nil, fmt.Errorf("encrypt private key: no scrypt function: %w", core.ErrInvalidInput)
	}
	if err := params.validate(); err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	plain, err := MarshalPrivateKey(key)
	if err != nil {
		return nil, err
	}
	salt, nonce := make([]byte, scryptSaltSize), make([]byte, gcmNonceSize)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, fmt.Errorf("encrypt private key: salt: %w", err)
	}
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, fmt.Errorf("encrypt private key: nonce: %w", err)
	}
	sp := scryptParams{Salt: salt, CostParameter: 1 << params.LogN, BlockSize: params.R, Parallelization: params.P, KeyLength: kekSize}
	aead, err := keyEncryptionCipher(password, sp, kdf)
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	kdfDER, err := asn1.Marshal(sp)
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	gcmDER, err := asn1.Marshal(gcmParams{Nonce: nonce, ICVLen: gcmTagSize})
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	pbes2DER, err := asn1.Marshal(pbes2Params{
		KeyDerivationFunc: rawAlgorithm{Algorithm: oidScrypt, Parameters: asn1.RawValue{FullBytes: kdfDER}},
		EncryptionScheme:  rawAlgorithm{Algorithm: oidAES256GCM, Parameters: asn1.RawValue{FullBytes: gcmDER}},
	})
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	return asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm:     rawAlgorithm{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: pbes2DER}},
		EncryptedData: aead.Seal(nil, nonce, plain, nil),
	})
}

// EncodeEncryptedPrivateKeyPEM is EncryptPrivateKey as an ENCRYPTED PRIVATE KEY block.
func EncodeEncryptedPrivateKeyPEM(key core.Signer, password []byte, kdf ScryptFunc, params ScryptParams, rnd io.Reader) ([]byte, error) {
	der, err := EncryptPrivateKey(key, password, kdf, params, rnd)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMEncryptedPrivateKey, Bytes: der}), nil
}

// DecryptPrivateKey opens EncryptedPrivateKeyInfo DER with password. Only
// PBES2 with scrypt and AES-256-GCM is accepted; scrypt parameters beyond
// 1 GiB of memory, r > 32, p > 16 or N·r·p > 2^25 are refused before any
// work is done.
func DecryptPrivateKey(der, password []byte, kdf ScryptFunc, schemes []core.SignatureScheme) (core.Signer, error) {
	var info encryptedPrivateKeyInfo
	if err := unmarshalExact(der, &info, "encrypted private key"); err != nil {
		return nil, err
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("encrypted private key: %w %s (want PBES2)", ErrUnknownAlgorithm, info.Algorithm.Algorithm)
	}
	var p pbes2Params
	if err := unmarshalExact(info.Algorithm.Parameters.FullBytes, &p, "encrypted private key: PBES2 parameters"); err != nil {
		return nil, err
	}
	if !p.KeyDerivationFunc.Algorithm.Equal(oidScrypt) || !p.EncryptionScheme.Algorithm.Equal(oidAES256GCM) {
		return nil, fmt.Errorf("encrypted private key: %w: KDF %s with cipher %s (want scrypt with AES-256-GCM)",
			ErrUnknownAlgorithm, p.KeyDerivationFunc.Algorithm, p.EncryptionScheme.Algorithm)
	}
	var sp scryptParams
	if err := unmarshalExact(p.KeyDerivationFunc.Parameters.FullBytes, &sp, "encrypted private key: scrypt parameters"); err != nil {
		return nil, err
	}
	var gp gcmParams
	if err := unmarshalExact(p.EncryptionScheme.Parameters.FullBytes, &gp, "encrypted private key: GCM parameters"); err != nil {
		return nil, err
	}
	if len(gp.Nonce) != gcmNonceSize || gp.ICVLen != gcmTagSize || len(info.EncryptedData) < gcmTagSize {
		return nil, fmt.Errorf("encrypted private key: GCM nonce of %d bytes, tag of %d: %w", len(gp.Nonce), gp.ICVLen, ErrMalformed)
	}
	if kdf == nil || len(password) == 0 {
		return nil, fmt.Errorf("encrypted private key: %w", ErrPasswordRequired)
	}
	aead, err := keyEncryptionCipher(password, sp, kdf)
	if err != nil {
		return nil, fmt.Errorf("encrypted private key: %w", err)
	}
	plain, err := aead.Open(nil, gp.Nonce, info.EncryptedData, nil)
	if err != nil {
		return nil, fmt.Errorf("encrypted private key: %w", ErrWrongPassword)
	}
	return ParsePrivateKey(plain, schemes)
}

// keyEncryptionCipher checks the scrypt parameters and derives the AES-256-GCM key.
func keyEncryptionCipher(password []byte, sp scryptParams, kdf ScryptFunc) (cipher.AEAD, error) {
	n := sp.CostParameter
	if n < 2 || n&(n-1) != 0 {
		return nil, fmt.Errorf("scrypt N=%d is not a power of two above 1: %w", n, ErrMalformed)
	}
	logN := 0
	for 1<<logN < n {
		logN++
	}
	if err := (ScryptParams{LogN: logN, R: sp.BlockSize, P: sp.Parallelization}).validate(); err != nil {
		return nil, err
	}
	if len(sp.Salt) < 8 || (sp.KeyLength != 0 && sp.KeyLength != kekSize) {
		return nil, fmt.Errorf("scrypt salt of %d bytes, key length %d: %w", len(sp.Salt), sp.KeyLength, ErrMalformed)
	}
	kek, err := kdf(password, sp.Salt, n, sp.BlockSize, sp.Parallelization, kekSize)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithTagSize(block, gcmTagSize)
}
