package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net"
	"net/url"
	"slices"
)

// Extension OIDs (RFC 5280 section 4.2.1).
var (
	oidExtSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtNameConstraints  = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidExtAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidExtExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// extKeyUsageOIDs maps the extended key usages this package writes to their OIDs.
var extKeyUsageOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageAny:             {2, 5, 29, 37, 0},
	x509.ExtKeyUsageServerAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 1},
	x509.ExtKeyUsageClientAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageCodeSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 3},
	x509.ExtKeyUsageEmailProtection: {1, 3, 6, 1, 5, 5, 7, 3, 4},
	x509.ExtKeyUsageTimeStamping:    {1, 3, 6, 1, 5, 5, 7, 3, 8},
	x509.ExtKeyUsageOCSPSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 9},
}

// mldsaKeyUsages are the keyUsage bits RFC 9881 section 5 allows for ML-DSA keys.
const mldsaKeyUsages = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment |
	x509.KeyUsageCertSign | x509.KeyUsageCRLSign

// GeneralName tags (RFC 5280 section 4.2.1.6).
const (
	tagDNSName = 2
	tagURI     = 6
	tagIP      = 7
)

func extension(id asn1.ObjectIdentifier, critical bool, value any) (pkix.Extension, error) {
	der, err := asn1.Marshal(value)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("extension %s: %w", id, err)
	}
	return pkix.Extension{Id: id, Critical: critical, Value: der}, nil
}

type basicConstraints struct {
	IsCA       bool `asn1:"optional"`
	MaxPathLen int  `asn1:"optional,default:-1"`
}

// basicConstraintsExt is always critical (RFC 5280 requires it for CAs and it
// costs nothing for leaves). pathLen < 0 leaves the path length unlimited.
func basicConstraintsExt(isCA bool, pathLen int) (pkix.Extension, error) {
	if !isCA || pathLen < 0 {
		pathLen = -1
	}
	return extension(oidExtBasicConstraints, true, basicConstraints{IsCA: isCA, MaxPathLen: pathLen})
}

// keyUsageExt encodes the keyUsage BIT STRING in DER's minimal form (bit 0 is
// digitalSignature, the most significant bit of the first octet).
func keyUsageExt(ku x509.KeyUsage) (pkix.Extension, error) {
	var b [2]byte
	bits := 0
	for i := range 9 {
		if ku&(1<<i) != 0 {
			b[i/8] |= 0x80 >> (i % 8)
			bits = i + 1
		}
	}
	return extension(oidExtKeyUsage, true, asn1.BitString{Bytes: b[:(bits+7)/8], BitLength: bits})
}

func extKeyUsageExt(usages []x509.ExtKeyUsage) (pkix.Extension, error) {
	oids := make([]asn1.ObjectIdentifier, 0, len(usages))
	for _, u := range usages {
		oid, ok := extKeyUsageOIDs[u]
		if !ok {
			return pkix.Extension{}, fmt.Errorf("extended key usage %d is not supported", u)
		}
		oids = append(oids, oid)
	}
	return extension(oidExtExtKeyUsage, false, oids)
}

// subjectKeyID is RFC 7093 section 2 method 1: the leftmost 160 bits of the
// SHA-256 of the subjectPublicKey bits.
func subjectKeyID(rawPublicKey []byte) []byte {
	sum := sha256.Sum256(rawPublicKey)
	return sum[:20]
}

func subjectKeyIDExt(id []byte) (pkix.Extension, error) {
	return extension(oidExtSubjectKeyID, false, id)
}

type authorityKeyID struct {
	ID []byte `asn1:"optional,tag:0"`
}

func authorityKeyIDExt(id []byte) (pkix.Extension, error) {
	return extension(oidExtAuthorityKeyID, false, authorityKeyID{ID: id})
}

// generalNames encodes DNS names, IP addresses and URIs as GeneralName values.
func generalNames(dns []string, ips []net.IP, uris []*url.URL) ([]asn1.RawValue, error) {
	var names []asn1.RawValue
	for _, d := range dns {
		if err := checkIA5(d); err != nil {
			return nil, fmt.Errorf("DNS name %q: %w", d, err)
		}
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagDNSName, Bytes: []byte(d)})
	}
	for _, ip := range ips {
		b := ip.To4()
		if b == nil {
			b = ip.To16()
		}
		if b == nil {
			return nil, fmt.Errorf("IP address %v: not IPv4 or IPv6", ip)
		}
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagIP, Bytes: b})
	}
	for _, u := range uris {
		s := u.String()
		if err := checkIA5(s); err != nil {
			return nil, fmt.Errorf("URI %q: %w", s, err)
		}
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagURI, Bytes: []byte(s)})
	}
	return names, nil
}

// subjectAltNameExt is critical when the subject is empty (RFC 5280 4.2.1.6).
func subjectAltNameExt(names []asn1.RawValue, emptySubject bool) (pkix.Extension, error) {
	return extension(oidExtSubjectAltName, emptySubject, names)
}

func checkIA5(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	for i := range len(s) {
		if s[i] > 0x7e || s[i] < 0x20 {
			return fmt.Errorf("byte %#x at %d is not printable ASCII", s[i], i)
		}
	}
	return nil
}

type generalSubtree struct {
	Base asn1.RawValue
}

type nameConstraints struct {
	Permitted []generalSubtree `asn1:"optional,tag:0"`
	Excluded  []generalSubtree `asn1:"optional,tag:1"`
}

// NameConstraints restricts the names that certificates below a CA may carry
// (RFC 5280 4.2.1.10). A DNS or URI domain "example.com" permits that host
// and its subdomains; ".example.com" only subdomains. URI constraints apply
// to the URI's host, so a SPIFFE trust domain is a URI domain.
type NameConstraints struct {
	PermittedDNSDomains, ExcludedDNSDomains []string
	PermittedIPRanges, ExcludedIPRanges     []*net.IPNet
	PermittedURIDomains, ExcludedURIDomains []string
}

func (nc NameConstraints) empty() bool {
	return len(nc.PermittedDNSDomains)+len(nc.ExcludedDNSDomains)+len(nc.PermittedIPRanges)+
		len(nc.ExcludedIPRanges)+len(nc.PermittedURIDomains)+len(nc.ExcludedURIDomains) == 0
}

func subtrees(dns []string, ips []*net.IPNet, uris []string) ([]generalSubtree, error) {
	var out []generalSubtree
	for _, d := range dns {
		if err := checkIA5(d); err != nil {
			return nil, fmt.Errorf("DNS constraint %q: %w", d, err)
		}
		out = append(out, generalSubtree{asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagDNSName, Bytes: []byte(d)}})
	}
	for _, n := range ips {
		ip, mask := n.IP.To4(), n.Mask
		if ip == nil || len(mask) != net.IPv4len {
			ip = n.IP.To16()
		}
		if ip == nil || len(ip) != len(mask) {
			return nil, fmt.Errorf("IP constraint %v: address and mask sizes differ", n)
		}
		out = append(out, generalSubtree{asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagIP, Bytes: slices.Concat([]byte(ip), []byte(mask))}})
	}
	for _, u := range uris {
		if err := checkIA5(u); err != nil || net.ParseIP(u) != nil {
			return nil, fmt.Errorf("URI constraint %q: must be a domain", u)
		}
		out = append(out, generalSubtree{asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagURI, Bytes: []byte(u)}})
	}
	return out, nil
}

// nameConstraintsExt is critical, as RFC 5280 requires.
func nameConstraintsExt(nc NameConstraints) (pkix.Extension, error) {
	permitted, err := subtrees(nc.PermittedDNSDomains, nc.PermittedIPRanges, nc.PermittedURIDomains)
	if err != nil {
		return pkix.Extension{}, err
	}
	excluded, err := subtrees(nc.ExcludedDNSDomains, nc.ExcludedIPRanges, nc.ExcludedURIDomains)
	if err != nil {
		return pkix.Extension{}, err
	}
	return extension(oidExtNameConstraints, true, nameConstraints{Permitted: permitted, Excluded: excluded})
}
