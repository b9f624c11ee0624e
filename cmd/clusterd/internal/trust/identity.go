// Package trust holds what a clusterd node trusts and how it proves who it
// is: its identity (certificate chain and key, checked against each other
// and against the trust roots at startup), the trust store (roots and
// revocation lists), and the KeyResolver that tells membership/swim which
// public key speaks for a NodeID — the member's certificate chain, carried
// in its signed alive record, verified against the trust store and, when
// the allow-list is on, the member registry.
package trust

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
	"github.com/snowmerak/clustering/transport"
)

// Identity is a node's key and certificate chain (leaf first).
type Identity struct {
	// Signer is the node's private key.
	Signer core.Signer
	// Chain is the leaf certificate, then its intermediates (a trailing
	// self-signed root is dropped: peers hold the roots).
	Chain []*pki.Certificate
}

// LoadChain reads a certificate chain, leaf first, as cpki writes it; a
// trailing self-signed root is dropped (peers hold the roots).
func LoadChain(certPath string) ([]*pki.Certificate, error) {
	certs, err := cliutil.LoadCertificates(certPath)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s holds no certificate: %w", certPath, core.ErrInvalidInput)
	}
	for len(certs) > 1 && certs[len(certs)-1].IsSelfSigned() {
		certs = certs[:len(certs)-1]
	}
	return certs, nil
}

// LoadIdentity reads a certificate chain and its private key and checks
// that the key is the leaf certificate's.
func LoadIdentity(certPath, keyPath string, pass cliutil.Passphrase) (Identity, error) {
	certs, err := LoadChain(certPath)
	if err != nil {
		return Identity{}, fmt.Errorf("identity: certificate: %w", err)
	}
	key, err := cliutil.LoadPrivateKey(keyPath, pass)
	if err != nil {
		return Identity{}, fmt.Errorf("identity: key: %w", err)
	}
	leaf := certs[0]
	if keyID := core.NodeIDOf(key.Public()); keyID != leaf.NodeID() {
		return Identity{}, fmt.Errorf("identity: key %s (NodeID %s) does not belong to certificate %s (CN=%q, NodeID %s): %w",
			keyPath, keyID.Short(), certPath, leaf.Subject.CommonName, leaf.NodeID().Short(), core.ErrVerification)
	}
	return Identity{Signer: key, Chain: certs}, nil
}

// NodeID returns the node's ID.
func (id Identity) NodeID() core.NodeID { return id.Chain[0].NodeID() }

// Transport returns the identity as the transport takes it.
func (id Identity) Transport() transport.Identity {
	ders := make([][]byte, len(id.Chain))
	for i, c := range id.Chain {
		ders[i] = c.Raw
	}
	return transport.Identity{Signer: id.Signer, Chain: ders}
}

// Credential returns the chain as the credential of the node's alive
// records: the DER certificates concatenated, leaf first.
func (id Identity) Credential() []byte {
	var out []byte
	for _, c := range id.Chain {
		out = append(out, c.Raw...)
	}
	return out
}

// Verify checks the identity's chain against ts at now, so a node whose
// certificate its peers would refuse says so at startup.
func (id Identity) Verify(ts *pki.TrustStore, now time.Time) error {
	if err := VerifyNodeChain(ts, id.Chain, now); err != nil {
		return fmt.Errorf("identity: own certificate chain %w", err)
	}
	return nil
}

// VerifyNodeChain checks that chain is a node's, its leaf no CA, and that
// it verifies against ts at now. Its errors read after "the chain".
func VerifyNodeChain(ts *pki.TrustStore, chain []*pki.Certificate, now time.Time) error {
	if chain[0].IsCA {
		return fmt.Errorf("has a CA certificate first (%s), not a node's: %w", chain[0].Subject.String(), core.ErrInvalidInput)
	}
	if _, err := ts.Verify(chain, pki.VerifyOptions{Now: now}); err != nil {
		return fmt.Errorf("does not verify against the trust roots and revocation lists: %w", err)
	}
	return nil
}

// SplitCredential splits a credential into its DER certificates. Each must
// be one complete DER element; nothing may follow the last.
func SplitCredential(b []byte) ([][]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("credential: empty: %w", core.ErrInvalidInput)
	}
	var ders [][]byte
	for len(b) > 0 {
		if len(ders) == pki.MaxChainLength {
			return nil, fmt.Errorf("credential: more than %d certificates: %w", pki.MaxChainLength, core.ErrInvalidInput)
		}
		var raw asn1.RawValue
		rest, err := asn1.Unmarshal(b, &raw)
		if err != nil {
			return nil, fmt.Errorf("credential: certificate %d: %v: %w", len(ders), err, core.ErrInvalidInput)
		}
		if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagSequence || !raw.IsCompound {
			return nil, fmt.Errorf("credential: certificate %d is not a DER SEQUENCE: %w", len(ders), core.ErrInvalidInput)
		}
		ders = append(ders, raw.FullBytes)
		b = rest
	}
	return ders, nil
}

// LoadTrustStore reads the trusted roots and installs the revocation lists.
func LoadTrustStore(rootsPath string, revocationLists []string, now time.Time) (*pki.TrustStore, error) {
	roots, err := loadRoots(rootsPath)
	if err != nil {
		return nil, err
	}
	ts := pki.NewTrustStore(roots...)
	var errs []error
	for _, path := range revocationLists {
		if err := addRevocationList(ts, path, now); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ts, nil
}

// loadRoots reads the trusted roots, at least one.
func loadRoots(path string) ([]*pki.Certificate, error) {
	roots, err := cliutil.LoadCertificates(path)
	if err != nil {
		return nil, fmt.Errorf("trust roots: %w", err)
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("trust roots: %s holds no certificate: %w", path, core.ErrInvalidInput)
	}
	return roots, nil
}

// addRevocationList installs the revocation list in path.
func addRevocationList(ts *pki.TrustStore, path string, now time.Time) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("revocation list: %w", err)
	}
	rl, signers, err := pki.ParseRevocationListPEM(data, cliutil.Schemes())
	if err != nil {
		return fmt.Errorf("revocation list %s: %w", path, err)
	}
	if err := ts.AddRevocationList(rl, signers, now); err != nil {
		return fmt.Errorf("revocation list %s: %w", path, err)
	}
	return nil
}
