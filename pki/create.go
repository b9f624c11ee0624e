package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Template describes a certificate to issue. Zero fields take the defaults
// documented on each; the issuer-dependent fields (issuer name, AKI,
// signature algorithm) come from the issuer.
type Template struct {
	// Subject is the certificate's subject name.
	Subject pkix.Name
	// SerialNumber, when nil, is a fresh random 128-bit positive integer.
	SerialNumber *big.Int
	// NotBefore and NotAfter bound the validity window; both are required and
	// kept at one-second precision.
	NotBefore, NotAfter time.Time

	// IsCA makes a CA certificate (root or intermediate).
	IsCA bool
	// MaxPathLen limits the intermediates below a CA, as in crypto/x509: a
	// negative value, or 0 without MaxPathLenZero, means unlimited. Ignored
	// for leaves.
	MaxPathLen int
	// MaxPathLenZero makes a MaxPathLen of 0 mean "no intermediates below".
	MaxPathLenZero bool
	// KeyUsage defaults to certSign|cRLSign for CAs and digitalSignature for
	// leaves; only the four bits RFC 9881 allows for ML-DSA are accepted.
	KeyUsage x509.KeyUsage
	// ExtKeyUsage defaults to serverAuth+clientAuth for leaves (a cluster node
	// is both) and to none for CAs. Use []x509.ExtKeyUsage{} for none.
	ExtKeyUsage []x509.ExtKeyUsage

	// DNSNames, IPAddresses and URIs (e.g. SPIFFE IDs) form the subjectAltName.
	DNSNames    []string
	IPAddresses []net.IP
	URIs        []*url.URL

	// NameConstraints restricts the names below a CA (CAs only).
	NameConstraints NameConstraints
}

// tbsCertificate is RFC 5280's TBSCertificate for encoding.
type tbsCertificate struct {
	Version            int `asn1:"explicit,tag:0"`
	SerialNumber       *big.Int
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Issuer             asn1.RawValue
	Validity           validity
	Subject            asn1.RawValue
	PublicKey          asn1.RawValue
	Extensions         []pkix.Extension `asn1:"explicit,tag:3"`
}

type validity struct {
	NotBefore, NotAfter time.Time
}

// NewRoot makes a self-signed root CA certificate for key. tmpl.IsCA is
// implied. rand supplies the serial (crypto/rand when nil).
func NewRoot(tmpl Template, key core.Signer, rand io.Reader) (*Certificate, error) {
	tmpl.IsCA = true
	return create(tmpl, key.Public(), nil, key, rand)
}

// Issue makes a certificate for pub signed by the CA issuer with issuerKey:
// an intermediate when tmpl.IsCA, else a leaf. pub may come from a node's
// public key file or a verified CertificateRequest, so the node's private key
// never leaves it. Issue refuses an issuer that is not a CA, a key that does
// not match the issuer, a validity window outside the issuer's, a CA under
// an issuer whose pathLen is 0, and names outside the issuer's name
// constraints.
func Issue(tmpl Template, pub core.PublicKey, issuer *Certificate, issuerKey core.Signer, rand io.Reader) (*Certificate, error) {
	if issuer == nil {
		return nil, fmt.Errorf("issue: no issuer certificate: %w", core.ErrInvalidInput)
	}
	// Only the issuer's own constraints are known here; verification also
	// applies those of every CA above it.
	if issuer.x509 != nil {
		if err := checkNames(tmpl.DNSNames, tmpl.URIs, tmpl.IPAddresses, issuer); err != nil {
			return nil, fmt.Errorf("issue %q: issuer %q: %w", tmpl.Subject.String(), issuer.Subject.String(), err)
		}
	}
	return create(tmpl, pub, issuer, issuerKey, rand)
}

func create(tmpl Template, pub core.PublicKey, issuer *Certificate, key core.Signer, rnd io.Reader) (*Certificate, error) {
	if err := prepareTemplate(&tmpl, issuer, key); err != nil {
		return nil, fmt.Errorf("issue %q: %w", tmpl.Subject.String(), err)
	}
	tbs, err := encodeTBS(&tmpl, pub, issuer, key.Scheme(), rnd)
	if err != nil {
		return nil, fmt.Errorf("issue %q: %w", tmpl.Subject.String(), err)
	}
	der, err := sign(tbs, key, nil)
	if err != nil {
		return nil, fmt.Errorf("issue %q: %w", tmpl.Subject.String(), err)
	}
	schemes := []core.SignatureScheme{pub.Scheme(), key.Scheme()}
	c, err := ParseCertificate(der, schemes)
	if err != nil {
		return nil, fmt.Errorf("issue %q: the new certificate does not parse back: %w", tmpl.Subject.String(), err)
	}
	return c, nil
}

// prepareTemplate validates the template against its issuer (nil for a root) and
// fills the defaults.
func prepareTemplate(tmpl *Template, issuer *Certificate, key core.Signer) error {
	if tmpl.NotBefore.IsZero() || tmpl.NotAfter.IsZero() {
		return fmt.Errorf("NotBefore and NotAfter are required: %w", core.ErrInvalidInput)
	}
	tmpl.NotBefore = tmpl.NotBefore.UTC().Truncate(time.Second)
	tmpl.NotAfter = tmpl.NotAfter.UTC().Truncate(time.Second)
	if !tmpl.NotAfter.After(tmpl.NotBefore) {
		return fmt.Errorf("NotAfter %s is not after NotBefore %s: %w", tmpl.NotAfter, tmpl.NotBefore, core.ErrInvalidInput)
	}
	if tmpl.KeyUsage == 0 {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if tmpl.IsCA {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		}
	}
	if tmpl.KeyUsage&^mldsaKeyUsages != 0 {
		return fmt.Errorf("key usage %#x has bits RFC 9881 forbids for signature keys: %w", tmpl.KeyUsage, core.ErrInvalidInput)
	}
	if tmpl.ExtKeyUsage == nil && !tmpl.IsCA {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	if !tmpl.IsCA && !tmpl.NameConstraints.empty() {
		return fmt.Errorf("name constraints on a leaf: %w", core.ErrInvalidInput)
	}
	if issuer == nil {
		return nil
	}
	if !issuer.IsCA || issuer.KeyUsage&x509.KeyUsageCertSign == 0 {
		return fmt.Errorf("issuer %q: %w", issuer.Subject.String(), ErrNotCA)
	}
	if !publicKeysEqual(key.Public(), issuer.PublicKey) {
		return fmt.Errorf("issuer %q: %w", issuer.Subject.String(), ErrKeyMismatch)
	}
	if tmpl.NotBefore.Before(issuer.NotBefore) || tmpl.NotAfter.After(issuer.NotAfter) {
		return fmt.Errorf("validity %s..%s is not within the issuer's %s..%s: %w",
			tmpl.NotBefore.Format(time.RFC3339), tmpl.NotAfter.Format(time.RFC3339),
			issuer.NotBefore.Format(time.RFC3339), issuer.NotAfter.Format(time.RFC3339), core.ErrInvalidInput)
	}
	if tmpl.IsCA && issuer.MaxPathLen == 0 {
		return fmt.Errorf("issuer %q has pathLen 0 and cannot issue a CA: %w", issuer.Subject.String(), ErrPathLen)
	}
	return nil
}

func publicKeysEqual(a, b core.PublicKey) bool {
	return sameScheme(a.Scheme(), b.Scheme()) && string(a.Bytes()) == string(b.Bytes())
}

// RandomSerial returns a positive random integer of at most 128 bits, drawn
// from rnd (crypto/rand when nil).
func RandomSerial(rnd io.Reader) (*big.Int, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [16]byte
	for {
		if _, err := io.ReadFull(rnd, b[:]); err != nil {
			return nil, fmt.Errorf("random serial: %w", err)
		}
		if n := new(big.Int).SetBytes(b[:]); n.Sign() > 0 {
			return n, nil
		}
	}
}

func encodeTBS(tmpl *Template, pub core.PublicKey, issuer *Certificate, sigScheme core.SignatureScheme, rnd io.Reader) ([]byte, error) {
	serial := tmpl.SerialNumber
	if serial == nil {
		var err error
		if serial, err = RandomSerial(rnd); err != nil {
			return nil, err
		}
	}
	if serial.Sign() <= 0 || serial.BitLen() > 159 {
		return nil, fmt.Errorf("serial number must be positive and at most 20 octets: %w", core.ErrInvalidInput)
	}
	subject, err := asn1.Marshal(tmpl.Subject.ToRDNSequence())
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	spki := core.MarshalPublicKeyInfo(pub)
	ski := subjectKeyID(pub.Bytes())
	issuerName, aki := subject, []byte(nil)
	if issuer != nil {
		issuerName, aki = issuer.RawSubject, issuer.SubjectKeyId
	}
	exts, err := extensions(tmpl, ski, aki, len(tmpl.Subject.ToRDNSequence()) == 0)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(tbsCertificate{
		Version:            2,
		SerialNumber:       serial,
		SignatureAlgorithm: algorithmIdentifier(sigScheme),
		Issuer:             asn1.RawValue{FullBytes: issuerName},
		Validity:           validity{NotBefore: tmpl.NotBefore, NotAfter: tmpl.NotAfter},
		Subject:            asn1.RawValue{FullBytes: subject},
		PublicKey:          asn1.RawValue{FullBytes: spki},
		Extensions:         exts,
	})
}

func extensions(tmpl *Template, ski, aki []byte, emptySubject bool) ([]pkix.Extension, error) {
	var exts []pkix.Extension
	add := func(e pkix.Extension, err error) error {
		exts = append(exts, e)
		return err
	}
	pathLen := tmpl.MaxPathLen
	if pathLen == 0 && !tmpl.MaxPathLenZero {
		pathLen = -1
	}
	if err := add(basicConstraintsExt(tmpl.IsCA, pathLen)); err != nil {
		return nil, err
	}
	if err := add(keyUsageExt(tmpl.KeyUsage)); err != nil {
		return nil, err
	}
	if len(tmpl.ExtKeyUsage) > 0 {
		if err := add(extKeyUsageExt(tmpl.ExtKeyUsage)); err != nil {
			return nil, err
		}
	}
	if err := add(subjectKeyIDExt(ski)); err != nil {
		return nil, err
	}
	if len(aki) > 0 {
		if err := add(authorityKeyIDExt(aki)); err != nil {
			return nil, err
		}
	}
	names, err := generalNames(tmpl.DNSNames, tmpl.IPAddresses, tmpl.URIs)
	if err != nil {
		return nil, fmt.Errorf("subjectAltName: %w: %w", err, core.ErrInvalidInput)
	}
	if len(names) > 0 {
		if err := add(subjectAltNameExt(names, emptySubject)); err != nil {
			return nil, err
		}
	} else if emptySubject {
		return nil, fmt.Errorf("a certificate needs a subject or a subjectAltName: %w", core.ErrInvalidInput)
	}
	if !tmpl.NameConstraints.empty() {
		if err := add(nameConstraintsExt(tmpl.NameConstraints)); err != nil {
			return nil, fmt.Errorf("name constraints: %w: %w", err, core.ErrInvalidInput)
		}
	}
	return exts, nil
}
