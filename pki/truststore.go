package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowmerak/clustering/core"
)

// maxCachedIntermediates bounds the parsed intermediates a trust store keeps
// for ParseChain.
const maxCachedIntermediates = 256

// TrustStore holds trusted roots and revocation lists and verifies chains
// against them. It is safe for concurrent use. Roots are trust anchors by
// subject name and key: a chain may end with a copy of a root, or stop just
// below it.
type TrustStore struct {
	mu      sync.RWMutex
	roots   []*Certificate
	lists   map[core.NodeID]*RevocationList
	revoked revocationIndex

	cacheMu       sync.Mutex
	intermediates map[[32]byte]*Certificate

	memo atomic.Pointer[signatureMemo]
}

// NewTrustStore returns a store trusting roots. It remembers up to
// DefaultSignatureMemoSize certificate signatures that verified (see
// SetSignatureMemoSize).
func NewTrustStore(roots ...*Certificate) *TrustStore {
	ts := &TrustStore{lists: map[core.NodeID]*RevocationList{}, intermediates: map[[32]byte]*Certificate{}}
	ts.memo.Store(newSignatureMemo(DefaultSignatureMemoSize))
	for _, r := range roots {
		ts.Add(r)
	}
	return ts
}

// SetSignatureMemoSize replaces the memo of verified certificate signatures
// with an empty one of at most entries signatures; 0 turns it off, so that
// every Verify checks every signature. The memo holds only the outcome of
// the pure signature check, keyed by its exact inputs (algorithms, issuer
// key, signed bytes, signature), and only for chains that verified whole:
// validity, CA rules, names, revocation and the path to a trusted root are
// checked at every Verify.
func (ts *TrustStore) SetSignatureMemoSize(entries int) {
	ts.memo.Store(newSignatureMemo(entries))
}

// Add trusts root; adding a certificate already present does nothing.
func (ts *TrustStore) Add(root *Certificate) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	fp := root.Fingerprint()
	if !slices.ContainsFunc(ts.roots, func(r *Certificate) bool { return r.Fingerprint() == fp }) {
		ts.roots = append(ts.roots, root)
	}
}

// Remove stops trusting the root with root's fingerprint.
func (ts *TrustStore) Remove(root *Certificate) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	fp := root.Fingerprint()
	ts.roots = slices.DeleteFunc(ts.roots, func(r *Certificate) bool { return r.Fingerprint() == fp })
}

// Roots returns the trusted roots in the order they were added.
func (ts *TrustStore) Roots() []*Certificate {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	return slices.Clone(ts.roots)
}

// AddPEM trusts every certificate of a PEM bundle.
func (ts *TrustStore) AddPEM(data []byte, schemes []core.SignatureScheme) error {
	roots, err := ParseCertificatesPEM(data, schemes)
	if err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	for _, r := range roots {
		ts.Add(r)
	}
	return nil
}

// PEM returns the roots as a PEM bundle that AddPEM reads back.
func (ts *TrustStore) PEM() []byte { return EncodeCertificatesPEM(ts.Roots()...) }

// anchorFor returns the trusted root with c's subject and key (c itself or a
// copy of it), or nil. Callers hold ts.mu.
func (ts *TrustStore) anchorFor(c *Certificate) *Certificate {
	for _, r := range ts.roots {
		if string(r.RawSubject) == string(c.RawSubject) && r.NodeID() == c.NodeID() {
			return r
		}
	}
	return nil
}

// issuerRoot returns the trusted root that issued c: its subject must equal
// c's issuer and, when both carry key identifiers, its SKI c's AKI. When
// several roots qualify, the one whose key verifies c's signature wins.
// Callers hold ts.mu.
func (ts *TrustStore) issuerRoot(c *Certificate) *Certificate {
	var candidates []*Certificate
	for _, r := range ts.roots {
		if string(r.RawSubject) == string(c.RawIssuer) && keyIDsMatch(c, r) {
			candidates = append(candidates, r)
		}
	}
	if len(candidates) == 1 {
		return candidates[0]
	}
	for _, r := range candidates {
		if c.CheckSignatureFrom(r) == nil {
			return r
		}
	}
	return nil
}

func keyIDsMatch(c, issuer *Certificate) bool {
	return len(c.AuthorityKeyId) == 0 || len(issuer.SubjectKeyId) == 0 || string(c.AuthorityKeyId) == string(issuer.SubjectKeyId)
}

// ParseChain parses DER certificates (leaf first), reusing the parsed form of
// trusted roots and of intermediates that earlier verified, so the keys of CAs
// are parsed once rather than on every handshake.
func (ts *TrustStore) ParseChain(ders [][]byte, schemes []core.SignatureScheme) ([]*Certificate, error) {
	if len(ders) == 0 || len(ders) > MaxChainLength {
		return nil, fmt.Errorf("parse chain: %d certificates (want 1 to %d): %w", len(ders), MaxChainLength, core.ErrInvalidInput)
	}
	chain := make([]*Certificate, len(ders))
	for i, der := range ders {
		if c := ts.cached(sha256.Sum256(der), schemes); c != nil {
			chain[i] = c
			continue
		}
		c, err := ParseCertificate(der, schemes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", i, err)
		}
		chain[i] = c
	}
	return chain, nil
}

func (ts *TrustStore) cached(fp [32]byte, schemes []core.SignatureScheme) *Certificate {
	usable := func(c *Certificate) bool {
		_, okKey := core.SchemeByOID(schemes, c.PublicKey.Scheme().OID())
		_, okSig := core.SchemeByOID(schemes, c.SignatureScheme.OID())
		return okKey && okSig
	}
	ts.cacheMu.Lock()
	c := ts.intermediates[fp]
	ts.cacheMu.Unlock()
	if c != nil && usable(c) {
		return c
	}
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	for _, r := range ts.roots {
		if r.Fingerprint() == fp && usable(r) {
			return r
		}
	}
	return nil
}

// remember caches the parsed intermediates of a verified path.
func (ts *TrustStore) remember(intermediates []*Certificate) {
	if len(intermediates) == 0 {
		return
	}
	ts.cacheMu.Lock()
	defer ts.cacheMu.Unlock()
	for _, c := range intermediates {
		fp := c.Fingerprint()
		if _, ok := ts.intermediates[fp]; ok {
			continue
		}
		if len(ts.intermediates) >= maxCachedIntermediates {
			for k := range ts.intermediates { // evict an arbitrary entry
				delete(ts.intermediates, k)
				break
			}
		}
		ts.intermediates[fp] = c
	}
}

// AddRevocationList installs a signed revocation list, replacing the
// signer's previous one. The signer must be a trusted root, or signerChain
// (signer first) must verify to one at now; either way the signing
// certificate must be a CA with keyUsage cRLSign. A list whose number is
// lower than the installed one's, or equal with other content, is refused so
// an old list cannot be replayed to lift a revocation.
func (ts *TrustStore) AddRevocationList(rl *RevocationList, signerChain []*Certificate, now time.Time) error {
	signer, err := ts.revocationSigner(rl, signerChain, now)
	if err != nil {
		return err
	}
	if !signer.IsCA || signer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return fmt.Errorf("revocation list: signer %q lacks CA or cRLSign: %w", signer.Subject.String(), ErrNotCA)
	}
	if err := rl.CheckSignatureFrom(signer); err != nil {
		return err
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if old := ts.lists[rl.Signer]; old != nil && (rl.Number < old.Number || rl.Number == old.Number && string(rl.Raw) != string(old.Raw)) {
		return fmt.Errorf("revocation list %d of %q does not supersede installed list %d: %w", rl.Number, signer.Subject.String(), old.Number, core.ErrConflict)
	}
	ts.lists[rl.Signer] = rl
	ts.revoked = buildRevocationIndex(ts.lists)
	return nil
}

func (ts *TrustStore) revocationSigner(rl *RevocationList, signerChain []*Certificate, now time.Time) (*Certificate, error) {
	ts.mu.RLock()
	for _, r := range ts.roots {
		if r.NodeID() == rl.Signer {
			ts.mu.RUnlock()
			return r, nil
		}
	}
	ts.mu.RUnlock()
	if len(signerChain) == 0 || signerChain[0].NodeID() != rl.Signer {
		return nil, fmt.Errorf("revocation list: signer %s is not a trusted root and no chain for it was given: %w", rl.Signer.Short(), ErrUnknownAuthority)
	}
	if _, err := ts.Verify(signerChain, VerifyOptions{Now: now}); err != nil {
		return nil, fmt.Errorf("revocation list: signer chain: %w", err)
	}
	return signerChain[0], nil
}

// RevocationLists returns the installed revocation lists.
func (ts *TrustStore) RevocationLists() []*RevocationList {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	out := make([]*RevocationList, 0, len(ts.lists))
	for _, rl := range ts.lists {
		out = append(out, rl)
	}
	slices.SortFunc(out, func(a, b *RevocationList) int { return slices.Compare(a.Signer[:], b.Signer[:]) })
	return out
}
