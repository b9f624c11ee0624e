package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"

	"github.com/snowmerak/clustering/core"
)

// CertificateRequest is a parsed PKCS#10 signing request (RFC 2986) whose
// self-signature has been verified: the requester holds the private key of
// PublicKey. A CA reads the wanted names from it and decides what to issue.
type CertificateRequest struct {
	// Raw is the complete DER request; RawTBSCertificateRequest its signed part.
	Raw, RawTBSCertificateRequest []byte
	// RawSubjectPublicKeyInfo is the requester's DER SubjectPublicKeyInfo.
	RawSubjectPublicKeyInfo []byte
	// Subject is the requested subject name.
	Subject pkix.Name
	// DNSNames, IPAddresses and URIs are the requested subjectAltName entries.
	DNSNames    []string
	IPAddresses []net.IP
	URIs        []*url.URL
	// PublicKey is the requester's key.
	PublicKey core.PublicKey
}

// RequestTemplate holds the names a node asks its CA for.
type RequestTemplate struct {
	Subject     pkix.Name
	DNSNames    []string
	IPAddresses []net.IP
	URIs        []*url.URL
}

var oidExtensionRequest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}

type certificationRequestInfo struct {
	Version    int
	Subject    asn1.RawValue
	PublicKey  asn1.RawValue
	Attributes []asn1.RawValue `asn1:"tag:0"`
}

type requestAttribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

// CreateCertificateRequest makes a PKCS#10 request for key's public key with
// the template's names, self-signed with key (empty context, as for
// certificates). crypto/x509.ParseCertificateRequest reads the result.
func CreateCertificateRequest(tmpl RequestTemplate, key core.Signer) (*CertificateRequest, error) {
	subject, err := asn1.Marshal(tmpl.Subject.ToRDNSequence())
	if err != nil {
		return nil, fmt.Errorf("create request: subject: %w", err)
	}
	attrs := []asn1.RawValue{}
	names, err := generalNames(tmpl.DNSNames, tmpl.IPAddresses, tmpl.URIs)
	if err != nil {
		return nil, fmt.Errorf("create request: %w: %w", err, core.ErrInvalidInput)
	}
	if len(names) > 0 {
		san, err := subjectAltNameExt(names, len(tmpl.Subject.ToRDNSequence()) == 0)
		if err != nil {
			return nil, fmt.Errorf("create request: %w", err)
		}
		exts, err := asn1.Marshal([]pkix.Extension{san})
		if err != nil {
			return nil, fmt.Errorf("create request: %w", err)
		}
		attr, err := asn1.Marshal(requestAttribute{Type: oidExtensionRequest, Values: []asn1.RawValue{{FullBytes: exts}}})
		if err != nil {
			return nil, fmt.Errorf("create request: %w", err)
		}
		attrs = append(attrs, asn1.RawValue{FullBytes: attr})
	}
	tbs, err := asn1.Marshal(certificationRequestInfo{
		Subject:    asn1.RawValue{FullBytes: subject},
		PublicKey:  asn1.RawValue{FullBytes: core.MarshalPublicKeyInfo(key.Public())},
		Attributes: attrs,
	})
	if err != nil {
		return nil, fmt.Errorf("create request: %w", err)
	}
	der, err := sign(tbs, key, nil)
	if err != nil {
		return nil, fmt.Errorf("create request: %w", err)
	}
	return ParseCertificateRequest(der, []core.SignatureScheme{key.Scheme()})
}

// ParseCertificateRequest parses a DER PKCS#10 request and verifies its
// self-signature (proof that the requester holds the private key).
func ParseCertificateRequest(der []byte, schemes []core.SignatureScheme) (*CertificateRequest, error) {
	xr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("parse request: %v: %w", err, ErrMalformed)
	}
	_, sigScheme, sig, err := parseSigned(xr.Raw, schemes, "request")
	if err != nil {
		return nil, fmt.Errorf("parse request: %w", err)
	}
	pub, err := ParsePublicKeyInfo(xr.RawSubjectPublicKeyInfo, schemes)
	if err != nil {
		return nil, fmt.Errorf("parse request: %w", err)
	}
	if !sameScheme(sigScheme, pub.Scheme()) || !pub.Verify(xr.RawTBSCertificateRequest, nil, sig) {
		return nil, fmt.Errorf("parse request: self-signature: %w", ErrBadSignature)
	}
	return &CertificateRequest{
		Raw:                      xr.Raw,
		RawTBSCertificateRequest: xr.RawTBSCertificateRequest,
		RawSubjectPublicKeyInfo:  xr.RawSubjectPublicKeyInfo,
		Subject:                  xr.Subject,
		DNSNames:                 xr.DNSNames,
		IPAddresses:              xr.IPAddresses,
		URIs:                     xr.URIs,
		PublicKey:                pub,
	}, nil
}

// EncodeCertificateRequestPEM encodes r as a CERTIFICATE REQUEST block.
func EncodeCertificateRequestPEM(r *CertificateRequest) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PEMCertificateRequest, Bytes: r.Raw})
}

// ParseCertificateRequestPEM decodes and verifies one CERTIFICATE REQUEST block.
func ParseCertificateRequestPEM(data []byte, schemes []core.SignatureScheme) (*CertificateRequest, error) {
	block, err := decodeOnePEM(data, PEMCertificateRequest)
	if err != nil {
		return nil, fmt.Errorf("parse request: %w", err)
	}
	return ParseCertificateRequest(block.Bytes, schemes)
}

// Template returns a leaf template carrying the request's subject and names;
// the CA adds the validity window and anything else it decides.
func (r *CertificateRequest) Template() Template {
	return Template{Subject: r.Subject, DNSNames: r.DNSNames, IPAddresses: r.IPAddresses, URIs: r.URIs}
}
