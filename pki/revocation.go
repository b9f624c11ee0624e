package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Revocation list format (PEM type "CLUSTERING REVOCATION LIST"), DER:
//
//	RevocationList ::= SEQUENCE {
//	    tbsList            TBSRevocationList,
//	    signatureAlgorithm AlgorithmIdentifier,  -- the signer's scheme, parameters absent
//	    signature          BIT STRING }          -- over DER(tbsList), context revocationContext
//
//	TBSRevocationList ::= SEQUENCE {
//	    version    INTEGER (1),
//	    signer     OCTET STRING (SIZE (32)),  -- NodeID of the signing CA's key
//	    number     INTEGER,                   -- grows with each list the signer issues
//	    thisUpdate GeneralizedTime,
//	    entries    SEQUENCE OF RevokedEntry }
//
//	RevokedEntry ::= SEQUENCE {
//	    issuer       [0] IMPLICIT OCTET STRING (SIZE (32)) OPTIONAL, -- NodeID of the issuer's key
//	    serialNumber [1] IMPLICIT INTEGER OPTIONAL,                  -- present with issuer
//	    fingerprint  [2] IMPLICIT OCTET STRING (SIZE (32)) OPTIONAL, -- SHA-256 of the certificate
//	    revokedAt    GeneralizedTime,
//	    reason       UTF8String OPTIONAL }
//
// The signature uses its own context string, so no certificate signature can
// pass for a revocation list or the reverse. A list binds only certificates
// below its signer: a trust store applies an entry to a chain only when the
// signer's key is an ancestor of the revoked certificate in that chain. Unlike
// an X.509 CRL, one list (say the root's) can revoke an intermediate and any
// certificate below it, by issuer and serial or by fingerprint. The PEM file
// may carry the signer's certificate chain after the list, so a trust store
// can check an intermediate's list.

// revocationContext is the signature context of revocation lists.
var revocationContext = []byte("clustering/pki revocation list v1")

const revocationListVersion = 1

type tbsRevocationList struct {
	Version    int
	Signer     []byte
	Number     int64
	ThisUpdate time.Time `asn1:"generalized"`
	Entries    []revokedEntry
}

type revokedEntry struct {
	Issuer       []byte    `asn1:"optional,tag:0"`
	SerialNumber *big.Int  `asn1:"optional,tag:1"`
	Fingerprint  []byte    `asn1:"optional,tag:2"`
	RevokedAt    time.Time `asn1:"generalized"`
	Reason       string    `asn1:"optional,utf8"`
}

// RevocationEntry revokes one certificate by issuer and serial, by
// fingerprint, or both (either then matches).
type RevocationEntry struct {
	// Issuer is the NodeID of the revoked certificate's issuer; zero with a nil SerialNumber.
	Issuer core.NodeID
	// SerialNumber is the revoked certificate's serial; nil when revoking by fingerprint only.
	SerialNumber *big.Int
	// Fingerprint is the SHA-256 of the revoked certificate; zero when revoking by serial only.
	Fingerprint [32]byte
	// RevokedAt is when the revocation was decided.
	RevokedAt time.Time
	// Reason is free text for operators.
	Reason string
}

// RevocationList is a signed list of revoked certificates.
type RevocationList struct {
	// Raw is the complete DER list.
	Raw []byte
	// Signer is the NodeID of the CA key that signed the list.
	Signer core.NodeID
	// Number orders the lists of one signer: a trust store refuses to replace
	// a list by one with a lower number.
	Number int64
	// ThisUpdate is when the list was made.
	ThisUpdate time.Time
	// Entries are the revoked certificates.
	Entries []RevocationEntry

	rawTBS    []byte
	scheme    core.SignatureScheme
	signature []byte
}

// RevokeCertificate returns an entry matching c by fingerprint and, when its
// issuer is known (non-nil), by issuer and serial as well.
func RevokeCertificate(c, issuer *Certificate, at time.Time, reason string) RevocationEntry {
	e := RevocationEntry{Fingerprint: c.Fingerprint(), RevokedAt: at, Reason: reason}
	if issuer != nil {
		e.Issuer, e.SerialNumber = issuer.NodeID(), c.SerialNumber
	}
	return e
}

func (e RevocationEntry) validate() error {
	hasSerial := e.SerialNumber != nil
	if hasSerial != !e.Issuer.IsZero() {
		return fmt.Errorf("revocation entry: issuer and serial number go together: %w", core.ErrInvalidInput)
	}
	if !hasSerial && e.Fingerprint == [32]byte{} {
		return fmt.Errorf("revocation entry: neither issuer+serial nor fingerprint: %w", core.ErrInvalidInput)
	}
	if hasSerial && e.SerialNumber.Sign() < 0 {
		return fmt.Errorf("revocation entry: negative serial: %w", core.ErrInvalidInput)
	}
	return nil
}

// CreateRevocationList signs a list with the CA certificate signer and its
// key. The certificate must be a CA with keyUsage cRLSign.
func CreateRevocationList(number int64, thisUpdate time.Time, entries []RevocationEntry, signer *Certificate, key core.Signer) (*RevocationList, error) {
	if !signer.IsCA || signer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, fmt.Errorf("create revocation list: signer %q lacks CA or cRLSign: %w", signer.Subject.String(), ErrNotCA)
	}
	if !publicKeysEqual(key.Public(), signer.PublicKey) {
		return nil, fmt.Errorf("create revocation list: signer %q: %w", signer.Subject.String(), ErrKeyMismatch)
	}
	id := signer.NodeID()
	tbs := tbsRevocationList{Version: revocationListVersion, Signer: id[:], Number: number, ThisUpdate: thisUpdate.UTC().Truncate(time.Second)}
	for _, e := range entries {
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("create revocation list: %w", err)
		}
		re := revokedEntry{SerialNumber: e.SerialNumber, RevokedAt: e.RevokedAt.UTC().Truncate(time.Second), Reason: e.Reason}
		if e.SerialNumber != nil {
			re.Issuer = bytes.Clone(e.Issuer[:])
		}
		if e.Fingerprint != [32]byte{} {
			re.Fingerprint = bytes.Clone(e.Fingerprint[:])
		}
		tbs.Entries = append(tbs.Entries, re)
	}
	tbsDER, err := asn1.Marshal(tbs)
	if err != nil {
		return nil, fmt.Errorf("create revocation list: %w", err)
	}
	der, err := sign(tbsDER, key, revocationContext)
	if err != nil {
		return nil, fmt.Errorf("create revocation list: %w", err)
	}
	return ParseRevocationList(der, []core.SignatureScheme{key.Scheme()})
}

// ParseRevocationList decodes a DER list. It does not check the signature:
// CheckSignatureFrom or TrustStore.AddRevocationList do.
func ParseRevocationList(der []byte, schemes []core.SignatureScheme) (*RevocationList, error) {
	env, sc, sig, err := parseSigned(der, schemes, "revocation list")
	if err != nil {
		return nil, err
	}
	var tbs tbsRevocationList
	if err := unmarshalExact(env.TBS.FullBytes, &tbs, "revocation list"); err != nil {
		return nil, err
	}
	if tbs.Version != revocationListVersion || len(tbs.Signer) != core.NodeIDSize {
		return nil, fmt.Errorf("revocation list: version %d, signer of %d bytes: %w", tbs.Version, len(tbs.Signer), ErrMalformed)
	}
	rl := &RevocationList{Raw: der, Number: tbs.Number, ThisUpdate: tbs.ThisUpdate, rawTBS: env.TBS.FullBytes, scheme: sc, signature: sig}
	copy(rl.Signer[:], tbs.Signer)
	for i, re := range tbs.Entries {
		e := RevocationEntry{SerialNumber: re.SerialNumber, RevokedAt: re.RevokedAt, Reason: re.Reason}
		if (len(re.Issuer) != 0 && len(re.Issuer) != core.NodeIDSize) || (len(re.Fingerprint) != 0 && len(re.Fingerprint) != 32) {
			return nil, fmt.Errorf("revocation list: entry %d: issuer of %d bytes, fingerprint of %d: %w", i, len(re.Issuer), len(re.Fingerprint), ErrMalformed)
		}
		copy(e.Issuer[:], re.Issuer)
		copy(e.Fingerprint[:], re.Fingerprint)
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("revocation list: entry %d: %w: %w", i, err, ErrMalformed)
		}
		rl.Entries = append(rl.Entries, e)
	}
	return rl, nil
}

// CheckSignatureFrom reports whether signer's key signed the list.
func (rl *RevocationList) CheckSignatureFrom(signer *Certificate) error {
	if signer.NodeID() != rl.Signer {
		return fmt.Errorf("revocation list: signed by key %s, not by %q: %w", rl.Signer.Short(), signer.Subject.String(), ErrIssuerMismatch)
	}
	if !sameScheme(rl.scheme, signer.PublicKey.Scheme()) || !signer.PublicKey.Verify(rl.rawTBS, revocationContext, rl.signature) {
		return fmt.Errorf("revocation list: signature of %q: %w", signer.Subject.String(), ErrBadSignature)
	}
	return nil
}

// EncodeRevocationListPEM encodes rl followed by the signer's certificate
// chain (which may be empty when the signer is a root).
func EncodeRevocationListPEM(rl *RevocationList, signerChain ...*Certificate) []byte {
	out := pem.EncodeToMemory(&pem.Block{Type: PEMRevocationList, Bytes: rl.Raw})
	return append(out, EncodeCertificatesPEM(signerChain...)...)
}

// ParseRevocationListPEM decodes a revocation list file: one list block,
// then any CERTIFICATE blocks of the signer's chain.
func ParseRevocationListPEM(data []byte, schemes []core.SignatureScheme) (*RevocationList, []*Certificate, error) {
	blocks, err := decodePEM(data, PEMRevocationList, PEMCertificate)
	if err != nil {
		return nil, nil, fmt.Errorf("parse revocation list: %w", err)
	}
	if blocks[0].Type != PEMRevocationList {
		return nil, nil, fmt.Errorf("parse revocation list: first block is %q: %w", blocks[0].Type, ErrWrongPEMType)
	}
	rl, err := ParseRevocationList(blocks[0].Bytes, schemes)
	if err != nil {
		return nil, nil, err
	}
	chain := make([]*Certificate, 0, len(blocks)-1)
	for i, b := range blocks[1:] {
		if b.Type != PEMCertificate {
			return nil, nil, fmt.Errorf("parse revocation list: block %d is %q: %w", i+1, b.Type, ErrWrongPEMType)
		}
		c, err := ParseCertificate(b.Bytes, schemes)
		if err != nil {
			return nil, nil, fmt.Errorf("parse revocation list: signer chain: %w", err)
		}
		chain = append(chain, c)
	}
	return rl, chain, nil
}
