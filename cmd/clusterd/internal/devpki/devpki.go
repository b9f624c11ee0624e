// Package devpki makes throwaway PKIs for "clusterd dev" and for tests: a
// root CA, an intermediate CA under it, and node certificates under the
// intermediate, written as the PEM files a node's configuration names. Keys
// are unencrypted; nothing here is for production (use cpki).
package devpki

import (
	"crypto/x509/pkix"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

// Validity of the certificates New and Node make, around the time given.
const (
	caValidity   = 30 * 24 * time.Hour
	nodeValidity = 7 * 24 * time.Hour
	backdate     = time.Hour
)

// PKI is a root and an intermediate CA whose files live in Dir.
type PKI struct {
	// Dir holds every file the PKI writes.
	Dir string
	// Scheme is the signature algorithm of every key.
	Scheme core.SignatureScheme
	// Root and Intermediate are the CA certificates.
	Root, Intermediate *pki.Certificate
	// RootFile is the root certificate's PEM file (a node's trust roots).
	RootFile string

	intermediateKey core.Signer
	now             time.Time
}

// Node is a node's certificate and key files.
type Node struct {
	// Name is the certificate's common name.
	Name string
	// ID is the node's NodeID.
	ID core.NodeID
	// CertFile holds the leaf and the intermediate; KeyFile the key.
	CertFile, KeyFile string
	// Chain is the leaf and the intermediate certificate.
	Chain []*pki.Certificate
	// Key is the node's private key.
	Key core.Signer
}

// New makes a root ("<name> Root CA") and an intermediate under it, valid
// around now, and writes root.crt into dir (CA keys stay in memory).
func New(dir, name string, scheme core.SignatureScheme, now time.Time) (*PKI, error) {
	rootKey, err := scheme.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("devpki: root key: %w", err)
	}
	root, err := pki.NewRoot(pki.Template{
		Subject:   pkix.Name{CommonName: name + " Root CA"},
		NotBefore: now.Add(-backdate), NotAfter: now.Add(caValidity),
		MaxPathLen: 1,
	}, rootKey, nil)
	if err != nil {
		return nil, fmt.Errorf("devpki: root: %w", err)
	}
	interKey, err := scheme.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("devpki: intermediate key: %w", err)
	}
	inter, err := pki.Issue(pki.Template{
		Subject:   pkix.Name{CommonName: name + " Intermediate CA"},
		NotBefore: now.Add(-backdate), NotAfter: now.Add(caValidity - time.Hour),
		IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
	}, interKey.Public(), root, rootKey, nil)
	if err != nil {
		return nil, fmt.Errorf("devpki: intermediate: %w", err)
	}
	p := &PKI{Dir: dir, Scheme: scheme, Root: root, Intermediate: inter, RootFile: filepath.Join(dir, "root.crt"), intermediateKey: interKey, now: now}
	if err := pki.WriteNewFiles(pki.NewFile{Path: p.RootFile, Data: pki.EncodeCertificatesPEM(root), Mode: pki.CertFileMode}); err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	return p, nil
}

// Node issues a node certificate for a fresh key, naming ips in its
// subjectAltName, and writes <name>.crt (leaf and intermediate) and
// <name>.key into Dir.
func (p *PKI) Node(name string, ips ...net.IP) (Node, error) {
	key, err := p.Scheme.GenerateKey(nil)
	if err != nil {
		return Node{}, fmt.Errorf("devpki: %s key: %w", name, err)
	}
	leaf, err := pki.Issue(pki.Template{
		Subject:   pkix.Name{CommonName: name},
		NotBefore: p.now.Add(-backdate), NotAfter: p.now.Add(nodeValidity),
		DNSNames: []string{name}, IPAddresses: ips,
	}, key.Public(), p.Intermediate, p.intermediateKey, nil)
	if err != nil {
		return Node{}, fmt.Errorf("devpki: %s: %w", name, err)
	}
	keyPEM, err := pki.EncodePrivateKeyPEM(key)
	if err != nil {
		return Node{}, fmt.Errorf("devpki: %s key: %w", name, err)
	}
	n := Node{
		Name: name, ID: leaf.NodeID(), Key: key,
		CertFile: filepath.Join(p.Dir, name+".crt"), KeyFile: filepath.Join(p.Dir, name+".key"),
		Chain: []*pki.Certificate{leaf, p.Intermediate},
	}
	err = pki.WriteNewFiles(
		pki.NewFile{Path: n.CertFile, Data: pki.EncodeCertificatesPEM(leaf, p.Intermediate), Mode: pki.CertFileMode},
		pki.NewFile{Path: n.KeyFile, Data: keyPEM, Mode: pki.KeyFileMode},
	)
	if err != nil {
		return Node{}, fmt.Errorf("devpki: %w", err)
	}
	return n, nil
}

// Revoke writes revoked.crl, a revocation list signed by the intermediate
// that revokes certs (its number is the number given), and returns its path.
func (p *PKI) Revoke(number int64, certs ...*pki.Certificate) (string, error) {
	var entries []pki.RevocationEntry
	for _, c := range certs {
		entries = append(entries, pki.RevokeCertificate(c, p.Intermediate, p.now, "test"))
	}
	rl, err := pki.CreateRevocationList(number, p.now, entries, p.Intermediate, p.intermediateKey)
	if err != nil {
		return "", fmt.Errorf("devpki: revocation list: %w", err)
	}
	path := filepath.Join(p.Dir, fmt.Sprintf("revoked-%d.crl", number))
	if err := pki.WriteNewFiles(pki.NewFile{Path: path, Data: pki.EncodeRevocationListPEM(rl, p.Intermediate), Mode: pki.CertFileMode}); err != nil {
		return "", fmt.Errorf("devpki: %w", err)
	}
	return path, nil
}
