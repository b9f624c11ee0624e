package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/snowmerak/clustering/core"
)

// MaxChainLength bounds the certificates Verify and ParseChain accept, so a
// peer cannot make a node parse or check an arbitrarily long chain.
const MaxChainLength = 8

// VerifyOptions are the conditions a chain is verified under.
type VerifyOptions struct {
	// Now is the verification time; zero means time.Now().
	Now time.Time
	// KeyUsages lists extended key usages the leaf must permit (all of
	// them); empty means any. A leaf or CA without extKeyUsage permits all;
	// one whose extKeyUsage lists only usages crypto/x509 does not know
	// permits none of these.
	KeyUsages []x509.ExtKeyUsage
	// DNSName, URI and IP, when set, must appear among the leaf's
	// subjectAltNames (DNS names may be "*." wildcards).
	DNSName string
	URI     string
	IP      net.IP
}

// Verify checks chain (chain[0] the leaf, then its intermediates, optionally
// ending with a root) against the trusted roots and returns the verified path,
// which ends with the trusted root. It checks, for every certificate: the
// validity window at opts.Now, unhandled critical extensions, revocation by
// any installed list whose signer is above it; for every issuer: the CA flag,
// keyUsage certSign, pathLen, name constraints, subject/issuer and SKI/AKI
// chaining and the signature; for the leaf: opts' key usages and names. All
// cheap checks run before the first signature verification. Signatures the
// store's memo holds (see SetSignatureMemoSize) are not checked again; every
// other rule is. pathLen counts
// every intermediate, self-issued ones included (stricter than RFC 5280). Failures are
// *CertificateError values naming the certificate and wrapping a sentinel.
func (ts *TrustStore) Verify(chain []*Certificate, opts VerifyOptions) ([]*Certificate, error) {
	if len(chain) == 0 || len(chain) > MaxChainLength {
		return nil, fmt.Errorf("verify: chain of %d certificates (want 1 to %d): %w", len(chain), MaxChainLength, core.ErrInvalidInput)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	ts.mu.RLock()
	path, err := ts.buildPath(chain)
	if err == nil {
		err = ts.checkPath(path, now, &opts)
	}
	ts.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if err := ts.checkSignatures(path); err != nil {
		return nil, err
	}
	if len(path) > 2 {
		ts.remember(path[1 : len(path)-1])
	}
	return path, nil
}

// checkSignatures checks that each certificate of path is signed by the
// next, skipping signatures the memo holds. Two or more signatures to check
// are checked at once, one goroutine each (a chain's worst case is the same
// work either way: a forged top link already makes a one-at-a-time check do
// every link). The signatures it checked are remembered only once every one
// of them verified, so a chain that fails higher up (a leaf signed by an
// untrusted intermediate) leaves nothing behind.
func (ts *TrustStore) checkSignatures(path []*Certificate) error {
	memo := ts.memo.Load()
	var (
		keys  [MaxChainLength + 1][32]byte
		links [MaxChainLength + 1]int // indices of the signatures to check
		errs  [MaxChainLength + 1]error
		n     int
	)
	for i := range len(path) - 1 {
		if memo != nil {
			if keys[n] = signatureKey(path[i], path[i+1]); memo.contains(keys[n]) {
				continue
			}
		}
		links[n] = i
		n++
	}
	var wg sync.WaitGroup
	for j := 1; j < n; j++ {
		wg.Go(func() { errs[j] = path[links[j]].CheckSignatureFrom(path[links[j]+1]) })
	}
	if n > 0 {
		errs[0] = path[links[0]].CheckSignatureFrom(path[links[0]+1])
	}
	wg.Wait()
	for j := range n {
		if errs[j] != nil {
			i := links[j]
			return certError(i, path[i], errs[j])
		}
	}
	memo.add(keys[:n]...)
	return nil
}

// buildPath follows chain up to a trust anchor: a chain certificate that is a
// trusted root (by subject and key), or the trusted root that issued the last
// one. Callers hold ts.mu.
func (ts *TrustStore) buildPath(chain []*Certificate) ([]*Certificate, error) {
	path := make([]*Certificate, 0, len(chain)+1)
	for i, c := range chain {
		if root := ts.anchorFor(c); root != nil {
			return append(path, root), nil
		}
		path = append(path, c)
		if i+1 < len(chain) {
			continue
		}
		if string(c.RawIssuer) == string(c.RawSubject) {
			return nil, certError(i, c, fmt.Errorf("%w: self-issued and not a trusted root", ErrUnknownAuthority))
		}
		root := ts.issuerRoot(c)
		if root == nil {
			return nil, certError(i, c, fmt.Errorf("%w: issuer %q is not a trusted root", ErrUnknownAuthority, c.Issuer.String()))
		}
		path = append(path, root)
	}
	return path, nil
}

// checkPath runs every check but the signatures. Callers hold ts.mu.
func (ts *TrustStore) checkPath(path []*Certificate, now time.Time, opts *VerifyOptions) error {
	for i, c := range path {
		if err := checkValidity(c, now); err != nil {
			return certError(i, c, err)
		}
		if err := checkCriticalExtensions(c); err != nil {
			return certError(i, c, err)
		}
		if i == len(path)-1 {
			break
		}
		issuer := path[i+1]
		if err := checkCA(c, issuer, i); err != nil {
			return certError(i+1, issuer, err)
		}
		if string(c.RawIssuer) != string(issuer.RawSubject) || !keyIDsMatch(c, issuer) {
			return certError(i, c, fmt.Errorf("%w: issuer %q (key id %x) is not the next certificate %q (key id %x)",
				ErrIssuerMismatch, c.Issuer.String(), c.AuthorityKeyId, issuer.Subject.String(), issuer.SubjectKeyId))
		}
		for _, ca := range path[i+1:] {
			if err := checkNameConstraints(c, ca); err != nil {
				return certError(i, c, err)
			}
		}
		if err := ts.revoked.check(c, issuer, path[i+1:]); err != nil {
			return certError(i, c, err)
		}
	}
	leaf := path[0]
	for _, u := range opts.KeyUsages {
		for i, c := range path {
			if !permitsUsage(c, u) {
				return certError(i, c, fmt.Errorf("%w: extended key usage %d not permitted", ErrKeyUsage, u))
			}
		}
	}
	if err := checkLeafNames(leaf, opts); err != nil {
		return certError(0, leaf, err)
	}
	return nil
}

func checkValidity(c *Certificate, now time.Time) error {
	if now.Before(c.NotBefore) {
		return fmt.Errorf("%w: valid from %s, now %s", ErrNotYetValid, c.NotBefore.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if now.After(c.NotAfter) {
		return fmt.Errorf("%w: valid until %s, now %s", ErrExpired, c.NotAfter.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkCA checks that issuer may sign c, the certificate at index i of the
// path; i is also the number of intermediates below the issuer.
func checkCA(c, issuer *Certificate, i int) error {
	if !issuer.IsCA {
		return fmt.Errorf("%w: basicConstraints CA flag not set, yet it issued %q", ErrNotCA, c.Subject.String())
	}
	if issuer.KeyUsage&x509.KeyUsageCertSign == 0 {
		return fmt.Errorf("%w: keyUsage lacks certSign, yet it issued %q", ErrNotCA, c.Subject.String())
	}
	if issuer.MaxPathLen >= 0 && i > issuer.MaxPathLen {
		return fmt.Errorf("%w: pathLen %d, but %d intermediates follow", ErrPathLen, issuer.MaxPathLen, i)
	}
	return nil
}

// unprocessedExtensions are extensions crypto/x509 decodes, so it does not
// list them as unhandled, but that Verify does not enforce: certificate
// policies, policy mappings, CRL distribution points, policy constraints and
// inhibitAnyPolicy. Marked critical, they must fail the chain (RFC 5280 4.2).
var unprocessedExtensions = []asn1.ObjectIdentifier{
	{2, 5, 29, 32}, {2, 5, 29, 33}, {2, 5, 29, 31}, {2, 5, 29, 36}, {2, 5, 29, 54},
}

// checkCriticalExtensions fails on a critical extension Verify does not
// process, and on a certificate ParseCertificate did not make (its
// extensions were never decoded).
func checkCriticalExtensions(c *Certificate) error {
	xc := c.x509
	if xc == nil {
		return fmt.Errorf("%w: the certificate was not made by ParseCertificate, so its extensions are unknown", ErrUnhandledCritical)
	}
	if len(xc.UnhandledCriticalExtensions) > 0 {
		return fmt.Errorf("%w: %v", ErrUnhandledCritical, xc.UnhandledCriticalExtensions)
	}
	for _, e := range xc.Extensions {
		if e.Critical && slices.ContainsFunc(unprocessedExtensions, e.Id.Equal) {
			return fmt.Errorf("%w: %v is not processed", ErrUnhandledCritical, e.Id)
		}
	}
	return nil
}

// permitsUsage reports whether c allows the extended key usage u. Only a
// certificate without the extension permits every usage: one that lists
// nothing but usages crypto/x509 does not know permits none of the known ones.
func permitsUsage(c *Certificate, u x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.x509.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, u) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

// revocationIndex maps revoked fingerprints and issuer+serial pairs to the
// entries (and their signers) that revoke them.
type revocationIndex struct {
	byFingerprint map[[32]byte][]indexedEntry
	bySerial      map[serialKey][]indexedEntry
}

type serialKey struct {
	issuer core.NodeID
	serial string
}

type indexedEntry struct {
	signer core.NodeID
	number int64
	entry  RevocationEntry
}

func buildRevocationIndex(lists map[core.NodeID]*RevocationList) revocationIndex {
	ix := revocationIndex{byFingerprint: map[[32]byte][]indexedEntry{}, bySerial: map[serialKey][]indexedEntry{}}
	for _, rl := range lists {
		for _, e := range rl.Entries {
			ie := indexedEntry{signer: rl.Signer, number: rl.Number, entry: e}
			if e.Fingerprint != [32]byte{} {
				ix.byFingerprint[e.Fingerprint] = append(ix.byFingerprint[e.Fingerprint], ie)
			}
			if e.SerialNumber != nil {
				k := serialKey{issuer: e.Issuer, serial: string(e.SerialNumber.Bytes())}
				ix.bySerial[k] = append(ix.bySerial[k], ie)
			}
		}
	}
	return ix
}

// check reports whether c (issued by issuer) is revoked by a list whose signer
// is among ancestors.
func (ix *revocationIndex) check(c, issuer *Certificate, ancestors []*Certificate) error {
	if len(ix.byFingerprint) == 0 && len(ix.bySerial) == 0 {
		return nil
	}
	hits := ix.byFingerprint[c.Fingerprint()]
	if len(ix.bySerial) > 0 {
		hits = append(slices.Clip(hits), ix.bySerial[serialKey{issuer: issuer.NodeID(), serial: string(c.SerialNumber.Bytes())}]...)
	}
	for _, h := range hits {
		for _, a := range ancestors {
			if a.NodeID() == h.signer {
				err := fmt.Errorf("%w: by %q (list %d) at %s", ErrRevoked, a.Subject.String(), h.number, h.entry.RevokedAt.Format(time.RFC3339))
				if h.entry.Reason != "" {
					err = fmt.Errorf("%w: %s", err, h.entry.Reason)
				}
				return err
			}
		}
	}
	return nil
}
