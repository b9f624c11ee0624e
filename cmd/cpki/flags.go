package main

import (
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/pki"
)

// listFlag is a comma-separated list; the flag may also be repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// subjectFlags name a certificate's subject.
type subjectFlags struct{ cn, org string }

func (f *subjectFlags) register(fs *flag.FlagSet, defaultCN string) {
	fs.StringVar(&f.cn, "cn", defaultCN, "subject common name")
	fs.StringVar(&f.org, "org", "", "subject organization (optional)")
}

func (f *subjectFlags) name() pkix.Name {
	n := pkix.Name{CommonName: f.cn}
	if f.org != "" {
		n.Organization = []string{f.org}
	}
	return n
}

// keyOutFlags describe a new key pair and where its private key goes.
type keyOutFlags struct {
	alg, outKey, passFile string
	encrypt               bool
	scryptLogN            int
}

func (f *keyOutFlags) register(fs *flag.FlagSet, defaultOut string) {
	fs.StringVar(&f.alg, "alg", "ml-dsa-65", "key algorithm: "+strings.Join(cliutil.SchemeNames(), ", "))
	fs.StringVar(&f.outKey, "out-key", defaultOut, "private key file to create (mode 0600; never overwritten)")
	fs.BoolVar(&f.encrypt, "encrypt", false, "encrypt the private key with a passphrase (scrypt + AES-256-GCM)")
	fs.StringVar(&f.passFile, "pass-file", "", "file whose first line is the passphrase for -encrypt (default: $CPKI_PASSPHRASE, else a terminal prompt)")
	fs.IntVar(&f.scryptLogN, "scrypt-log-n", pki.DefaultScryptParams().LogN, "scrypt cost for -encrypt: N = 2^value, memory 2^value KiB")
}

func (f *keyOutFlags) passphrase() cliutil.Passphrase {
	return cliutil.Passphrase{File: f.passFile, Env: "CPKI_PASSPHRASE", Prompt: "New key passphrase"}
}

// caFlags locate the issuing CA.
type caFlags struct{ cert, key, passFile string }

func (f *caFlags) register(fs *flag.FlagSet, defaultCert, defaultKey string) {
	fs.StringVar(&f.cert, "ca-cert", defaultCert, "CA certificate file (the CA first, then its own intermediates, if any)")
	fs.StringVar(&f.key, "ca-key", defaultKey, "CA private key file")
	fs.StringVar(&f.passFile, "ca-pass-file", "", "file whose first line is the CA key's passphrase (default: $CPKI_CA_PASSPHRASE, else a terminal prompt)")
}

func (f *caFlags) passphrase() cliutil.Passphrase {
	return cliutil.Passphrase{File: f.passFile, Env: "CPKI_CA_PASSPHRASE", Prompt: "CA key passphrase"}
}

// sanFlags are a leaf's subjectAltNames.
type sanFlags struct{ ips, domains, uris listFlag }

func (f *sanFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.ips, "ips", "comma-separated IP addresses for the subjectAltName")
	fs.Var(&f.domains, "domains", "comma-separated DNS names for the subjectAltName (a leftmost \"*.\" wildcard is allowed)")
	fs.Var(&f.uris, "uri", "comma-separated URIs for the subjectAltName, e.g. a SPIFFE ID spiffe://cluster.local/node/1")
}

func (f *sanFlags) set() bool { return len(f.ips)+len(f.domains)+len(f.uris) > 0 }

func (f *sanFlags) parse() ([]net.IP, []string, []*url.URL, error) {
	ips, err := parseIPs(f.ips)
	if err != nil {
		return nil, nil, nil, err
	}
	uris, err := parseURIs(f.uris)
	if err != nil {
		return nil, nil, nil, err
	}
	return ips, f.domains, uris, nil
}

// constraintFlags are a CA's name constraints.
type constraintFlags struct{ domains, ips, uriDomains listFlag }

func (f *constraintFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.domains, "permit-domains", "name constraint: comma-separated DNS domains the certificates below may use (\"example.com\" covers its subdomains)")
	fs.Var(&f.ips, "permit-ips", "name constraint: comma-separated CIDR ranges the certificates below may use")
	fs.Var(&f.uriDomains, "permit-uri-domains", "name constraint: comma-separated URI hosts (e.g. a SPIFFE trust domain) the certificates below may use")
}

func (f *constraintFlags) parse() (pki.NameConstraints, error) {
	nc := pki.NameConstraints{PermittedDNSDomains: f.domains, PermittedURIDomains: f.uriDomains}
	for _, s := range f.ips {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nc, fmt.Errorf("-permit-ips: %q is not a CIDR range", s)
		}
		nc.PermittedIPRanges = append(nc.PermittedIPRanges, n)
	}
	return nc, nil
}

func parseIPs(list []string) ([]net.IP, error) {
	var ips []net.IP
	for _, s := range list {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("-ips: %q is not an IP address", s)
		}
		ips = append(ips, ip)
	}
	return ips, nil
}

// spiffeTrustDomain reports whether host is a SPIFFE trust domain name:
// lowercase letters, digits, dots, dashes and underscores, so no port
// either (SPIFFE ID spec, section 2.1).
func spiffeTrustDomain(host string) bool {
	return host != "" && !strings.ContainsFunc(host, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '.' && r != '-' && r != '_'
	})
}

func parseURIs(list []string) ([]*url.URL, error) {
	var uris []*url.URL
	for _, s := range list {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
			return nil, fmt.Errorf("-uri: %q is not an absolute URI", s)
		}
		if u.Scheme == "spiffe" && (!spiffeTrustDomain(u.Host) || u.User != nil || u.RawQuery != "" || u.Fragment != "") {
			return nil, fmt.Errorf("-uri: %q is not a valid SPIFFE ID (spiffe://trust-domain/path; the trust domain in lowercase letters, digits, '.', '-', '_')", s)
		}
		uris = append(uris, u)
	}
	return uris, nil
}

// requireDays checks a -days value.
func requireDays(days int) error {
	if days <= 0 {
		return errors.New("-days must be positive")
	}
	return nil
}
