package pki

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// oneAsymmetricKey is RFC 5958's OneAsymmetricKey (PKCS#8 PrivateKeyInfo
// when Version is 0).
type oneAsymmetricKey struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
	Attributes asn1.RawValue  `asn1:"optional,tag:0"`
	PublicKey  asn1.BitString `asn1:"optional,tag:1"`
}

var oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}

// usesCurvePrivateKey reports the RFC 8410 form, an OCTET STRING holding the
// seed (Ed25519); every other scheme uses the RFC 9881 seed form, a [0]
// IMPLICIT OCTET STRING.
func usesCurvePrivateKey(s core.SignatureScheme) bool { return s.OID().Equal(oidEd25519) }

// MarshalPrivateKey encodes key as PKCS#8 (RFC 5958 v1) DER holding only its
// seed: for ML-DSA the RFC 9881 seed form, for Ed25519 RFC 8410's form.
func MarshalPrivateKey(key core.Signer) ([]byte, error) {
	seed := key.Seed()
	inner := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: seed}
	if usesCurvePrivateKey(key.Scheme()) {
		inner = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagOctetString, Bytes: seed}
	}
	privateKey, err := asn1.Marshal(inner)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	der, err := asn1.Marshal(oneAsymmetricKey{Algorithm: algorithmIdentifier(key.Scheme()), PrivateKey: privateKey})
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return der, nil
}

// ParsePrivateKey decodes PKCS#8 DER with one of schemes and rebuilds the key
// from its seed. The RFC 9881 expandedKey and both forms are refused: the
// seed is the only form whose consistency can be checked here. A v2 key's
// embedded public key must match the one derived from the seed.
func ParsePrivateKey(der []byte, schemes []core.SignatureScheme) (core.Signer, error) {
	var k oneAsymmetricKey
	if err := unmarshalExact(der, &k, "private key"); err != nil {
		return nil, err
	}
	if k.Version != 0 && k.Version != 1 {
		return nil, fmt.Errorf("private key: version %d: %w", k.Version, ErrMalformed)
	}
	sc, err := schemeFor(k.Algorithm, schemes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	var inner asn1.RawValue
	if err := unmarshalExact(k.PrivateKey, &inner, "private key"); err != nil {
		return nil, err
	}
	wantClass, wantTag := asn1.ClassContextSpecific, 0
	if usesCurvePrivateKey(sc) {
		wantClass, wantTag = asn1.ClassUniversal, asn1.TagOctetString
	}
	if inner.Class != wantClass || inner.Tag != wantTag || inner.IsCompound {
		return nil, fmt.Errorf("private key: %s key is not in seed form (expanded keys are not supported; re-export the key with its seed): %w", sc.Name(), ErrMalformed)
	}
	if len(inner.Bytes) != sc.SeedSize() {
		return nil, fmt.Errorf("private key: %s seed of %d bytes, want %d: %w", sc.Name(), len(inner.Bytes), sc.SeedSize(), ErrMalformed)
	}
	key, err := sc.NewKeyFromSeed(inner.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if k.PublicKey.BitLength != 0 && string(k.PublicKey.Bytes) != string(key.Public().Bytes()) {
		return nil, fmt.Errorf("private key: embedded public key does not match the seed: %w", ErrMalformed)
	}
	return key, nil
}

// EncodePrivateKeyPEM encodes key as an unencrypted PRIVATE KEY block.
func EncodePrivateKeyPEM(key core.Signer) ([]byte, error) {
	der, err := MarshalPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMPrivateKey, Bytes: der}), nil
}

// PasswordFunc supplies the password of an encrypted key. It is called only
// when the key is encrypted, so callers can prompt lazily.
type PasswordFunc func() ([]byte, error)

// ParsePrivateKeyPEM decodes one PRIVATE KEY or ENCRYPTED PRIVATE KEY block.
// For an encrypted key it calls password and derives the key with kdf; a nil
// password or kdf then fails with ErrPasswordRequired, a wrong password with
// ErrWrongPassword.
func ParsePrivateKeyPEM(data []byte, schemes []core.SignatureScheme, kdf ScryptFunc, password PasswordFunc) (core.Signer, error) {
	block, err := decodeOnePEM(data, PEMPrivateKey, PEMEncryptedPrivateKey)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	if block.Type == PEMPrivateKey {
		return ParsePrivateKey(block.Bytes, schemes)
	}
	if password == nil || kdf == nil {
		return nil, fmt.Errorf("parse private key: %w", ErrPasswordRequired)
	}
	pw, err := password()
	if err != nil {
		return nil, fmt.Errorf("parse private key: password: %w", err)
	}
	return DecryptPrivateKey(block.Bytes, pw, kdf, schemes)
}
