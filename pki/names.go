package pki

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// matchHostname reports whether a certificate DNS name (possibly a leftmost
// "*." wildcard covering exactly one label) matches host, ignoring case and
// a trailing dot.
func matchHostname(pattern, host string) bool {
	pattern = strings.ToLower(strings.TrimSuffix(pattern, "."))
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if pattern == "" || host == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		label, parent, found := strings.Cut(host, ".")
		return found && label != "" && parent == rest
	}
	return pattern == host
}

// checkLeafNames applies VerifyOptions' name checks to the leaf.
func checkLeafNames(leaf *Certificate, opts *VerifyOptions) error {
	if opts.DNSName != "" && !anyOf(leaf.DNSNames, func(p string) bool { return matchHostname(p, opts.DNSName) }) {
		return fmt.Errorf("%w: DNS name %q not in %q", ErrNameMismatch, opts.DNSName, leaf.DNSNames)
	}
	if opts.URI != "" && !anyOf(leaf.URIs, func(u *url.URL) bool { return u.String() == opts.URI }) {
		return fmt.Errorf("%w: URI %q not in %v", ErrNameMismatch, opts.URI, leaf.URIs)
	}
	if opts.IP != nil && !anyOf(leaf.IPAddresses, func(ip net.IP) bool { return ip.Equal(opts.IP) }) {
		return fmt.Errorf("%w: IP %v not in %v", ErrNameMismatch, opts.IP, leaf.IPAddresses)
	}
	return nil
}

func anyOf[T any](xs []T, f func(T) bool) bool {
	for _, x := range xs {
		if f(x) {
			return true
		}
	}
	return false
}

// matchDomainConstraint implements RFC 5280 4.2.1.10 for DNS names and URI
// hosts: "example.com" covers the host and its subdomains, ".example.com"
// only subdomains, "" everything.
func matchDomainConstraint(host, constraint string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	constraint = strings.ToLower(constraint)
	switch {
	case constraint == "":
		return true
	case strings.HasPrefix(constraint, "."):
		return strings.HasSuffix(host, constraint) && len(host) > len(constraint)
	default:
		return host == constraint || strings.HasSuffix(host, "."+constraint)
	}
}

// wildcardReaches reports whether the DNS name pattern, a leftmost "*."
// wildcard, stands for a host inside the excluded subtree constraint:
// "*.example.com" stands for "db.example.com", so an exclusion of
// db.example.com must refuse it (as crypto/x509 does since CVE-2025-61727).
// Deeper subtrees and leading-dot constraints are out of the wildcard's reach.
func wildcardReaches(pattern, constraint string) bool {
	rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSuffix(pattern, ".")), "*.")
	if !ok || strings.HasPrefix(constraint, ".") {
		return false
	}
	label, parent, found := strings.Cut(strings.ToLower(constraint), ".")
	return found && label != "" && parent == rest
}

// constrained checks one name against permitted and excluded lists; with
// wildcards, a "*." name is also refused by any exclusion it could stand for.
func constrained(kind, name string, wildcards bool, permitted, excluded []string) error {
	for _, c := range excluded {
		if matchDomainConstraint(name, c) || wildcards && wildcardReaches(name, c) {
			return fmt.Errorf("%w: %s %q is excluded by %q", ErrNameConstraint, kind, name, c)
		}
	}
	if len(permitted) > 0 && !anyOf(permitted, func(c string) bool { return matchDomainConstraint(name, c) }) {
		return fmt.Errorf("%w: %s %q is not within %q", ErrNameConstraint, kind, name, permitted)
	}
	return nil
}

// checkNameConstraints checks the subjectAltNames of c against the name
// constraints of the CA ca. Email constraints are not supported: a CA
// carrying them fails closed.
func checkNameConstraints(c, ca *Certificate) error {
	return checkNames(c.DNSNames, c.URIs, c.IPAddresses, ca)
}

// checkNames checks subjectAltNames against the name constraints of ca.
func checkNames(dnsNames []string, uris []*url.URL, ips []net.IP, ca *Certificate) error {
	xc := ca.x509
	if xc == nil {
		return fmt.Errorf("%w: %q was not made by ParseCertificate, so its name constraints are unknown", ErrUnhandledCritical, ca.Subject.String())
	}
	if len(xc.PermittedEmailAddresses)+len(xc.ExcludedEmailAddresses) > 0 {
		return fmt.Errorf("%w: email name constraints of %q are not supported", ErrUnhandledCritical, ca.Subject.String())
	}
	for _, d := range dnsNames {
		if err := constrained("DNS name", d, true, xc.PermittedDNSDomains, xc.ExcludedDNSDomains); err != nil {
			return err
		}
	}
	for _, u := range uris {
		if len(xc.PermittedURIDomains)+len(xc.ExcludedURIDomains) == 0 {
			break
		}
		host := u.Hostname()
		if host == "" || net.ParseIP(host) != nil {
			return fmt.Errorf("%w: URI %q has no domain to check against %q's constraints", ErrNameConstraint, u, ca.Subject.String())
		}
		if err := constrained("URI", host, false, xc.PermittedURIDomains, xc.ExcludedURIDomains); err != nil {
			return err
		}
	}
	for _, ip := range ips {
		if anyOf(xc.ExcludedIPRanges, func(n *net.IPNet) bool { return n.Contains(ip) }) {
			return fmt.Errorf("%w: IP %v is excluded", ErrNameConstraint, ip)
		}
		if len(xc.PermittedIPRanges) > 0 && !anyOf(xc.PermittedIPRanges, func(n *net.IPNet) bool { return n.Contains(ip) }) {
			return fmt.Errorf("%w: IP %v is not within %v", ErrNameConstraint, ip, xc.PermittedIPRanges)
		}
	}
	return nil
}
