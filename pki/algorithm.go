package pki

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// subjectPublicKeyInfo is RFC 5280's SubjectPublicKeyInfo.
type subjectPublicKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// signedEnvelope is the outer SEQUENCE shared by certificates, signing
// requests and revocation lists: the signed bytes, the algorithm and the signature.
type signedEnvelope struct {
	TBS                asn1.RawValue
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
}

// algorithmIdentifier returns the RFC 9881 (and RFC 8410) AlgorithmIdentifier
// of s: its OID with the parameters absent.
func algorithmIdentifier(s core.SignatureScheme) pkix.AlgorithmIdentifier {
	return pkix.AlgorithmIdentifier{Algorithm: s.OID()}
}

// schemeFor maps an AlgorithmIdentifier to one of schemes. Parameters must be
// absent: RFC 9881 forbids them for ML-DSA (as RFC 8410 does for Ed25519).
func schemeFor(ai pkix.AlgorithmIdentifier, schemes []core.SignatureScheme) (core.SignatureScheme, error) {
	sc, ok := core.SchemeByOID(schemes, ai.Algorithm)
	if !ok {
		return nil, fmt.Errorf("%w: OID %s", ErrUnknownAlgorithm, ai.Algorithm)
	}
	if len(ai.Parameters.FullBytes) != 0 {
		return nil, fmt.Errorf("%w: %s with parameters present (must be absent)", ErrUnknownAlgorithm, sc.Name())
	}
	return sc, nil
}

// unmarshalExact decodes one DER value into v and rejects trailing bytes.
func unmarshalExact(der []byte, v any, what string) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return fmt.Errorf("%s: %v: %w", what, err, ErrMalformed)
	}
	if len(rest) != 0 {
		return fmt.Errorf("%s: %d trailing bytes: %w", what, len(rest), ErrMalformed)
	}
	return nil
}

// bitStringBytes returns the bytes of a BIT STRING that must hold whole octets.
func bitStringBytes(b asn1.BitString, what string) ([]byte, error) {
	if b.BitLength != 8*len(b.Bytes) {
		return nil, fmt.Errorf("%s: bit string of %d bits is not whole octets: %w", what, b.BitLength, ErrMalformed)
	}
	return b.Bytes, nil
}

// ParsePublicKeyInfo decodes a DER SubjectPublicKeyInfo with one of schemes.
func ParsePublicKeyInfo(der []byte, schemes []core.SignatureScheme) (core.PublicKey, error) {
	var spki subjectPublicKeyInfo
	if err := unmarshalExact(der, &spki, "public key info"); err != nil {
		return nil, err
	}
	sc, err := schemeFor(spki.Algorithm, schemes)
	if err != nil {
		return nil, fmt.Errorf("public key info: %w", err)
	}
	raw, err := bitStringBytes(spki.PublicKey, "public key info")
	if err != nil {
		return nil, err
	}
	if len(raw) != sc.PublicKeySize() {
		return nil, fmt.Errorf("public key info: %s key of %d bytes, want %d: %w", sc.Name(), len(raw), sc.PublicKeySize(), ErrMalformed)
	}
	pub, err := sc.ParsePublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("public key info: %w", err)
	}
	return pub, nil
}

// parseSigned splits a signed envelope and maps its algorithm to a scheme,
// checking the signature's size.
func parseSigned(der []byte, schemes []core.SignatureScheme, what string) (signedEnvelope, core.SignatureScheme, []byte, error) {
	var env signedEnvelope
	if err := unmarshalExact(der, &env, what); err != nil {
		return env, nil, nil, err
	}
	sc, err := schemeFor(env.SignatureAlgorithm, schemes)
	if err != nil {
		return env, nil, nil, fmt.Errorf("%s signature: %w", what, err)
	}
	sig, err := bitStringBytes(env.Signature, what+" signature")
	if err != nil {
		return env, nil, nil, err
	}
	if len(sig) != sc.SignatureSize() {
		return env, nil, nil, fmt.Errorf("%s: %s signature of %d bytes, want %d: %w", what, sc.Name(), len(sig), sc.SignatureSize(), ErrMalformed)
	}
	return env, sc, sig, nil
}

// sign signs tbs with key under context and wraps it in a signed envelope.
func sign(tbs []byte, key core.Signer, context []byte) ([]byte, error) {
	sig, err := key.Sign(tbs, context)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	der, err := asn1.Marshal(signedEnvelope{
		TBS:                asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: algorithmIdentifier(key.Scheme()),
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
	if err != nil {
		return nil, fmt.Errorf("marshal signed envelope: %w", err)
	}
	return der, nil
}

// sameScheme reports whether two schemes have the same OID.
func sameScheme(a, b core.SignatureScheme) bool {
	return a.OID().Equal(b.OID())
}
