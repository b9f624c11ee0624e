package main

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

// openssl's names, so the text reads like `openssl x509 -text`.
var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "Digital Signature"},
	{x509.KeyUsageContentCommitment, "Non Repudiation"},
	{x509.KeyUsageKeyEncipherment, "Key Encipherment"},
	{x509.KeyUsageDataEncipherment, "Data Encipherment"},
	{x509.KeyUsageKeyAgreement, "Key Agreement"},
	{x509.KeyUsageCertSign, "Certificate Sign"},
	{x509.KeyUsageCRLSign, "CRL Sign"},
	{x509.KeyUsageEncipherOnly, "Encipher Only"},
	{x509.KeyUsageDecipherOnly, "Decipher Only"},
}

var extKeyUsageNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "Any Extended Key Usage",
	x509.ExtKeyUsageServerAuth:      "TLS Web Server Authentication",
	x509.ExtKeyUsageClientAuth:      "TLS Web Client Authentication",
	x509.ExtKeyUsageCodeSigning:     "Code Signing",
	x509.ExtKeyUsageEmailProtection: "E-mail Protection",
	x509.ExtKeyUsageTimeStamping:    "Time Stamping",
	x509.ExtKeyUsageOCSPSigning:     "OCSP Signing",
}

func keyUsages(ku x509.KeyUsage) []string {
	var out []string
	for _, k := range keyUsageNames {
		if ku&k.bit != 0 {
			out = append(out, k.name)
		}
	}
	return out
}

func extKeyUsages(ekus []x509.ExtKeyUsage) []string {
	var out []string
	for _, u := range ekus {
		name, ok := extKeyUsageNames[u]
		if !ok {
			name = fmt.Sprintf("usage %d", u)
		}
		out = append(out, name)
	}
	return out
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

func opensslTime(t time.Time) string { return t.UTC().Format("Jan _2 15:04:05 2006 GMT") }

type certView struct{ c *pki.Certificate }

func (v certView) names() []string {
	var out []string
	for _, d := range v.c.DNSNames {
		out = append(out, "DNS:"+d)
	}
	for _, ip := range v.c.IPAddresses {
		out = append(out, "IP Address:"+ip.String())
	}
	for _, u := range v.c.URIs {
		out = append(out, "URI:"+u.String())
	}
	return out
}

func (v certView) text(w io.Writer) {
	c := v.c
	p := func(indent int, format string, args ...any) {
		fmt.Fprintf(w, "%s%s\n", strings.Repeat(" ", indent), cliutil.EscapeControls(fmt.Sprintf(format, args...)))
	}
	p(0, "Certificate:")
	p(4, "Data:")
	p(8, "Version: 3 (0x2)")
	p(8, "Serial Number:")
	p(12, "%s", strings.ToLower(colonHex(c.SerialNumber.Bytes())))
	p(8, "Signature Algorithm: %s", c.SignatureScheme.Name())
	p(8, "Issuer: %s", c.Issuer.String())
	p(8, "Validity")
	p(12, "Not Before: %s", opensslTime(c.NotBefore))
	p(12, "Not After : %s", opensslTime(c.NotAfter))
	p(8, "Subject: %s", c.Subject.String())
	p(8, "Subject Public Key Info:")
	p(12, "Public Key Algorithm: %s", c.PublicKey.Scheme().Name())
	p(16, "Public-Key: (%d bytes) %s...", len(c.PublicKey.Bytes()), strings.ToLower(colonHex(c.PublicKey.Bytes()[:16])))
	p(8, "X509v3 extensions:")
	for _, e := range c.X509().Extensions {
		name, value := v.extension(e.Id, e.Value)
		if e.Critical {
			name += " critical"
		}
		p(12, "%s", name)
		p(16, "%s", value)
	}
	p(4, "Signature Algorithm: %s", c.SignatureScheme.Name())
	p(4, "Signature Value: (%d bytes) %s...", len(c.Signature), strings.ToLower(colonHex(c.Signature[:16])))
	fp := c.Fingerprint()
	p(4, "NodeID: %s", c.NodeID())
	p(4, "SHA256 Fingerprint: %s", colonHex(fp[:]))
}

// extension names one extension as openssl does and renders its value.
func (v certView) extension(id asn1.ObjectIdentifier, raw []byte) (string, string) {
	c, xc := v.c, v.c.X509()
	switch id.String() {
	case "2.5.29.19":
		s := "CA:FALSE"
		if c.IsCA {
			s = "CA:TRUE"
			if c.MaxPathLen >= 0 {
				s += fmt.Sprintf(", pathlen:%d", c.MaxPathLen)
			}
		}
		return "X509v3 Basic Constraints:", s
	case "2.5.29.15":
		return "X509v3 Key Usage:", strings.Join(keyUsages(c.KeyUsage), ", ")
	case "2.5.29.37":
		return "X509v3 Extended Key Usage:", strings.Join(extKeyUsages(c.ExtKeyUsage), ", ")
	case "2.5.29.14":
		return "X509v3 Subject Key Identifier:", colonHex(c.SubjectKeyId)
	case "2.5.29.35":
		return "X509v3 Authority Key Identifier:", colonHex(c.AuthorityKeyId)
	case "2.5.29.17":
		return "X509v3 Subject Alternative Name:", strings.Join(v.names(), ", ")
	case "2.5.29.30":
		var parts []string
		for _, d := range xc.PermittedDNSDomains {
			parts = append(parts, "Permitted DNS:"+d)
		}
		for _, n := range xc.PermittedIPRanges {
			parts = append(parts, "Permitted IP:"+n.String())
		}
		for _, d := range xc.PermittedURIDomains {
			parts = append(parts, "Permitted URI:"+d)
		}
		for _, d := range xc.ExcludedDNSDomains {
			parts = append(parts, "Excluded DNS:"+d)
		}
		for _, n := range xc.ExcludedIPRanges {
			parts = append(parts, "Excluded IP:"+n.String())
		}
		for _, d := range xc.ExcludedURIDomains {
			parts = append(parts, "Excluded URI:"+d)
		}
		return "X509v3 Name Constraints:", strings.Join(parts, ", ")
	}
	return id.String() + ":", hex.EncodeToString(raw)
}

// certJSON is the -json form of a certificate.
type certJSON struct {
	Type                string      `json:"type"`
	SerialNumber        string      `json:"serialNumber"`
	SignatureAlgorithm  string      `json:"signatureAlgorithm"`
	Issuer              string      `json:"issuer"`
	Subject             string      `json:"subject"`
	NotBefore           time.Time   `json:"notBefore"`
	NotAfter            time.Time   `json:"notAfter"`
	IsCA                bool        `json:"isCA"`
	MaxPathLen          int         `json:"maxPathLen"`
	KeyUsage            []string    `json:"keyUsage"`
	ExtKeyUsage         []string    `json:"extKeyUsage,omitempty"`
	DNSNames            []string    `json:"dnsNames,omitempty"`
	IPAddresses         []string    `json:"ipAddresses,omitempty"`
	URIs                []string    `json:"uris,omitempty"`
	PermittedDNSDomains []string    `json:"permittedDNSDomains,omitempty"`
	PermittedIPRanges   []string    `json:"permittedIPRanges,omitempty"`
	PermittedURIDomains []string    `json:"permittedURIDomains,omitempty"`
	SubjectKeyID        string      `json:"subjectKeyId"`
	AuthorityKeyID      string      `json:"authorityKeyId,omitempty"`
	PublicKeyAlgorithm  string      `json:"publicKeyAlgorithm"`
	NodeID              core.NodeID `json:"nodeId"`
	FingerprintSHA256   string      `json:"fingerprintSHA256"`
}

func (v certView) json() any {
	c, xc := v.c, v.c.X509()
	fp := c.Fingerprint()
	j := certJSON{
		Type: "certificate", SerialNumber: c.SerialNumber.Text(16), SignatureAlgorithm: c.SignatureScheme.Name(),
		Issuer: c.Issuer.String(), Subject: c.Subject.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		IsCA: c.IsCA, MaxPathLen: c.MaxPathLen, KeyUsage: keyUsages(c.KeyUsage), ExtKeyUsage: extKeyUsages(c.ExtKeyUsage),
		DNSNames: c.DNSNames, PermittedDNSDomains: xc.PermittedDNSDomains, PermittedURIDomains: xc.PermittedURIDomains,
		SubjectKeyID: hex.EncodeToString(c.SubjectKeyId), AuthorityKeyID: hex.EncodeToString(c.AuthorityKeyId),
		PublicKeyAlgorithm: c.PublicKey.Scheme().Name(), NodeID: c.NodeID(), FingerprintSHA256: hex.EncodeToString(fp[:]),
	}
	for _, ip := range c.IPAddresses {
		j.IPAddresses = append(j.IPAddresses, ip.String())
	}
	for _, u := range c.URIs {
		j.URIs = append(j.URIs, u.String())
	}
	for _, n := range xc.PermittedIPRanges {
		j.PermittedIPRanges = append(j.PermittedIPRanges, n.String())
	}
	return j
}

type requestView struct{ r *pki.CertificateRequest }

func (v requestView) text(w io.Writer) {
	r := v.r
	fmt.Fprintf(w, "Certificate Request:\n    Subject: %s\n    Public Key Algorithm: %s\n", cliutil.EscapeControls(r.Subject.String()), r.PublicKey.Scheme().Name())
	names := certView{&pki.Certificate{DNSNames: r.DNSNames, IPAddresses: r.IPAddresses, URIs: r.URIs}}.names()
	if len(names) > 0 {
		fmt.Fprintf(w, "    Requested Subject Alternative Name: %s\n", cliutil.EscapeControls(strings.Join(names, ", ")))
	}
	fmt.Fprintf(w, "    Signature: verified (the requester holds the private key)\n    NodeID: %s\n", core.NodeIDOf(r.PublicKey))
}

func (v requestView) json() any {
	r := v.r
	ips := []string{}
	for _, ip := range r.IPAddresses {
		ips = append(ips, ip.String())
	}
	uris := []string{}
	for _, u := range r.URIs {
		uris = append(uris, u.String())
	}
	return map[string]any{
		"type": "certificateRequest", "subject": r.Subject.String(), "publicKeyAlgorithm": r.PublicKey.Scheme().Name(),
		"dnsNames": append([]string{}, r.DNSNames...), "ipAddresses": ips, "uris": uris, "nodeId": core.NodeIDOf(r.PublicKey),
	}
}

type publicKeyView struct{ pub core.PublicKey }

func (v publicKeyView) text(w io.Writer) {
	fmt.Fprintf(w, "Public Key:\n    Algorithm: %s (%d bytes)\n    NodeID: %s\n", v.pub.Scheme().Name(), len(v.pub.Bytes()), core.NodeIDOf(v.pub))
}

func (v publicKeyView) json() any {
	return map[string]any{"type": "publicKey", "algorithm": v.pub.Scheme().Name(), "nodeId": core.NodeIDOf(v.pub)}
}

type listView struct{ rl *pki.RevocationList }

func (v listView) text(w io.Writer) {
	rl := v.rl
	fmt.Fprintf(w, "Revocation List:\n    Signer (NodeID): %s\n    Number: %d\n    This Update: %s\n    Revoked Certificates: %d\n",
		rl.Signer, rl.Number, opensslTime(rl.ThisUpdate), len(rl.Entries))
	for _, e := range rl.Entries {
		fmt.Fprintf(w, "        Revoked At: %s", opensslTime(e.RevokedAt))
		if e.SerialNumber != nil {
			fmt.Fprintf(w, "\n            Serial Number: %s (issuer %s)", strings.ToLower(colonHex(e.SerialNumber.Bytes())), e.Issuer.Short())
		}
		if e.Fingerprint != [32]byte{} {
			fmt.Fprintf(w, "\n            SHA256 Fingerprint: %s", colonHex(e.Fingerprint[:]))
		}
		if e.Reason != "" {
			fmt.Fprintf(w, "\n            Reason: %s", cliutil.EscapeControls(e.Reason))
		}
		fmt.Fprintln(w)
	}
}

func (v listView) json() any {
	type entry struct {
		RevokedAt    time.Time    `json:"revokedAt"`
		Issuer       *core.NodeID `json:"issuer,omitempty"`
		SerialNumber string       `json:"serialNumber,omitempty"`
		Fingerprint  string       `json:"fingerprintSHA256,omitempty"`
		Reason       string       `json:"reason,omitempty"`
	}
	entries := []entry{}
	for _, e := range v.rl.Entries {
		j := entry{RevokedAt: e.RevokedAt, Reason: e.Reason}
		if e.SerialNumber != nil {
			issuer := e.Issuer
			j.Issuer, j.SerialNumber = &issuer, e.SerialNumber.Text(16)
		}
		if e.Fingerprint != [32]byte{} {
			j.Fingerprint = hex.EncodeToString(e.Fingerprint[:])
		}
		entries = append(entries, j)
	}
	return map[string]any{"type": "revocationList", "signer": v.rl.Signer, "number": v.rl.Number, "thisUpdate": v.rl.ThisUpdate, "entries": entries}
}
