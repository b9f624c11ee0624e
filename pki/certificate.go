package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Certificate is a parsed X.509 v3 certificate whose key and signature use one
// of the signature schemes it was parsed with (ML-DSA in production). It is
// immutable once parsed and safe to share between goroutines.
type Certificate struct {
	// Raw is the complete DER certificate.
	Raw []byte
	// RawTBSCertificate is the signed part of Raw.
	RawTBSCertificate []byte
	// RawSubject and RawIssuer are the DER names, compared byte for byte when chaining.
	RawSubject, RawIssuer []byte
	// RawSubjectPublicKeyInfo is the DER SubjectPublicKeyInfo; NodeID hashes it.
	RawSubjectPublicKeyInfo []byte

	// SerialNumber is the issuer-unique serial.
	SerialNumber *big.Int
	// Subject and Issuer are the decoded names.
	Subject, Issuer pkix.Name
	// NotBefore and NotAfter bound the validity window (both inclusive).
	NotBefore, NotAfter time.Time

	// IsCA is the basicConstraints CA flag.
	IsCA bool
	// MaxPathLen is the basicConstraints pathLen, or -1 when absent.
	MaxPathLen int
	// KeyUsage is the keyUsage extension (0 when absent).
	KeyUsage x509.KeyUsage
	// ExtKeyUsage is the extKeyUsage extension (nil when absent: any usage).
	ExtKeyUsage []x509.ExtKeyUsage
	// SubjectKeyId and AuthorityKeyId are the key identifier extensions.
	SubjectKeyId, AuthorityKeyId []byte

	// DNSNames, IPAddresses and URIs are the subjectAltName entries.
	DNSNames    []string
	IPAddresses []net.IP
	URIs        []*url.URL

	// PublicKey is the subject's key, parsed with the matching scheme.
	PublicKey core.PublicKey
	// SignatureScheme is the issuer's algorithm (from signatureAlgorithm).
	SignatureScheme core.SignatureScheme
	// Signature is the issuer's signature over RawTBSCertificate.
	Signature []byte

	x509        *x509.Certificate
	fingerprint [32]byte
	nodeID      core.NodeID
}

// ParseCertificate parses one DER certificate. The subject key's algorithm and
// the signature algorithm must each belong to schemes, with parameters absent.
// Every extension is decoded by crypto/x509, so a certificate this accepts is
// one that standard tools read the same way.
func ParseCertificate(der []byte, schemes []core.SignatureScheme) (*Certificate, error) {
	xc, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %v: %w", err, ErrMalformed)
	}
	if xc.Version != 3 {
		return nil, fmt.Errorf("parse certificate: version %d, want 3: %w", xc.Version, ErrMalformed)
	}
	_, sigScheme, sig, err := parseSigned(xc.Raw, schemes, "certificate")
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	pub, err := ParsePublicKeyInfo(xc.RawSubjectPublicKeyInfo, schemes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: subject %w", err)
	}
	c := &Certificate{
		Raw:                     xc.Raw,
		RawTBSCertificate:       xc.RawTBSCertificate,
		RawSubject:              xc.RawSubject,
		RawIssuer:               xc.RawIssuer,
		RawSubjectPublicKeyInfo: xc.RawSubjectPublicKeyInfo,
		SerialNumber:            xc.SerialNumber,
		Subject:                 xc.Subject,
		Issuer:                  xc.Issuer,
		NotBefore:               xc.NotBefore,
		NotAfter:                xc.NotAfter,
		IsCA:                    xc.BasicConstraintsValid && xc.IsCA,
		MaxPathLen:              -1,
		KeyUsage:                xc.KeyUsage,
		ExtKeyUsage:             xc.ExtKeyUsage,
		SubjectKeyId:            xc.SubjectKeyId,
		AuthorityKeyId:          xc.AuthorityKeyId,
		DNSNames:                xc.DNSNames,
		IPAddresses:             xc.IPAddresses,
		URIs:                    xc.URIs,
		PublicKey:               pub,
		SignatureScheme:         sigScheme,
		Signature:               sig,
		x509:                    xc,
		fingerprint:             sha256.Sum256(xc.Raw),
		nodeID:                  core.NodeIDFromPublicKeyInfo(xc.RawSubjectPublicKeyInfo),
	}
	if c.IsCA && xc.MaxPathLen >= 0 {
		c.MaxPathLen = xc.MaxPathLen
	}
	return c, nil
}

// NodeID returns the SHA-256 of the certificate's SubjectPublicKeyInfo: the
// identity of the node holding the key, kept across renewals.
func (c *Certificate) NodeID() core.NodeID {
	if c.nodeID.IsZero() {
		return core.NodeIDFromPublicKeyInfo(c.RawSubjectPublicKeyInfo)
	}
	return c.nodeID
}

// Fingerprint returns the SHA-256 of the DER certificate.
func (c *Certificate) Fingerprint() [32]byte {
	if c.fingerprint == [32]byte{} {
		return sha256.Sum256(c.Raw)
	}
	return c.fingerprint
}

// X509 returns crypto/x509's view of the certificate (its PublicKey is nil for
// ML-DSA), for fields this type does not copy. The caller must not modify it.
func (c *Certificate) X509() *x509.Certificate { return c.x509 }

// CheckSignatureFrom reports whether issuer's key signed c: the algorithms
// must agree and the signature must verify over the TBS certificate with an
// empty context (RFC 9881). It checks nothing else.
func (c *Certificate) CheckSignatureFrom(issuer *Certificate) error {
	if !sameScheme(c.SignatureScheme, issuer.PublicKey.Scheme()) {
		return fmt.Errorf("%w: signed with %s but the issuer key is %s", ErrBadSignature, c.SignatureScheme.Name(), issuer.PublicKey.Scheme().Name())
	}
	if !issuer.PublicKey.Verify(c.RawTBSCertificate, nil, c.Signature) {
		return fmt.Errorf("%w: %s signature does not verify under the key of %q", ErrBadSignature, c.SignatureScheme.Name(), issuer.Subject.String())
	}
	return nil
}

// IsSelfSigned reports whether the certificate names itself as issuer and its
// own key verifies its signature.
func (c *Certificate) IsSelfSigned() bool {
	return string(c.RawIssuer) == string(c.RawSubject) && c.CheckSignatureFrom(c) == nil
}
