package integration_test

import (
	"crypto/sha256"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
	"github.com/snowmerak/clustering/transport"
)

// fixtureNodes is how many honest node identities the cached PKI holds.
const fixtureNodes = 10

// credential is one node's identity as clusterd would load it from the
// files cpki wrote: its key, its chain (leaf, intermediate) and its leaf.
type credential struct {
	name     string
	identity transport.Identity
	leaf     *pki.Certificate
	// chainPEM is the certificate file (leaf then intermediate).
	chainPEM []byte
}

// nodeID is the credential's NodeID.
func (c credential) nodeID() core.NodeID { return c.leaf.NodeID() }

// authority is a root → intermediate hierarchy of ML-DSA-65 CAs.
type authority struct {
	root, inter       *pki.Certificate
	rootKey, interKey core.Signer
}

// trust returns a fresh trust store holding the authority's root.
func (a *authority) trust() *pki.TrustStore { return pki.NewTrustStore(a.root) }

// fixture is the PKI of the suite, made once per test binary because
// ML-DSA is slow under the race detector: the cluster's authority and its
// nodes, a node the cluster's CA certified but the member list leaves out,
// and a rogue authority with a certified node of its own (Mallory).
type fixture struct {
	cluster  *authority
	nodes    [fixtureNodes]credential
	outsider credential
	rogue    *authority
	mallory  credential
}

var (
	fixtureOnce sync.Once
	fixtureVal  *fixture
	fixtureErr  error
)

// pkiFixture returns the cached PKI, making it on first use.
func pkiFixture(tb testing.TB) *fixture {
	tb.Helper()
	fixtureOnce.Do(func() { fixtureVal, fixtureErr = newFixture() })
	require.NoError(tb, fixtureErr, "make the PKI fixture")
	return fixtureVal
}

func newFixture() (*fixture, error) {
	now := time.Now()
	f := &fixture{}
	var err error
	if f.cluster, err = newAuthority("Cluster", now); err != nil {
		return nil, err
	}
	for i := range f.nodes {
		if f.nodes[i], err = f.cluster.issueNode(fmt.Sprintf("node-%d", i), nodeIP(i), now); err != nil {
			return nil, err
		}
	}
	if f.outsider, err = f.cluster.issueNode("outsider", net.IPv4(10, 0, 9, 9), now); err != nil {
		return nil, err
	}
	if f.rogue, err = newAuthority("Rogue", now); err != nil {
		return nil, err
	}
	if f.mallory, err = f.rogue.issueNode("mallory", net.IPv4(10, 6, 6, 6), now); err != nil {
		return nil, err
	}
	return f, nil
}

// The validity periods and the one-minute backdating are cpki's defaults.
const (
	clockSkew    = time.Minute
	rootDays     = 3650
	interDays    = 1825
	leafDays     = 365
	validityUnit = 24 * time.Hour
)

// fixtureKey derives a deterministic ML-DSA-65 key from a label, so the
// fixture is the same in every run.
func fixtureKey(label string) (core.Signer, error) {
	seed := sha256.Sum256([]byte("clustering integration fixture: " + label))
	return pqc.MLDSA65.NewKeyFromSeed(seed[:])
}

// newAuthority makes a root and an intermediate the way `cpki root` and
// `cpki intermediate` do.
func newAuthority(name string, now time.Time) (*authority, error) {
	a := &authority{}
	var err error
	if a.rootKey, err = fixtureKey(name + " root"); err != nil {
		return nil, err
	}
	if a.interKey, err = fixtureKey(name + " intermediate"); err != nil {
		return nil, err
	}
	if a.root, err = pki.NewRoot(pki.Template{
		Subject:   pkix.Name{CommonName: name + " Root CA"},
		NotBefore: now.Add(-clockSkew), NotAfter: now.Add(rootDays * validityUnit),
		IsCA: true, MaxPathLen: 1,
	}, a.rootKey, nil); err != nil {
		return nil, fmt.Errorf("%s root: %w", name, err)
	}
	if a.inter, err = pki.Issue(pki.Template{
		Subject:   pkix.Name{CommonName: name + " Intermediate CA"},
		NotBefore: now.Add(-clockSkew), NotAfter: now.Add(interDays * validityUnit),
		IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
	}, a.interKey.Public(), a.root, a.rootKey, nil); err != nil {
		return nil, fmt.Errorf("%s intermediate: %w", name, err)
	}
	return a, nil
}

// issueNode makes a node's key and leaf the way `cpki leaf` does, then
// loads them back from PEM as a node would from its files.
func (a *authority) issueNode(name string, ip net.IP, now time.Time) (credential, error) {
	key, err := fixtureKey(a.root.Subject.CommonName + " " + name)
	if err != nil {
		return credential{}, err
	}
	leaf, err := pki.Issue(pki.Template{
		Subject:   pkix.Name{CommonName: name},
		NotBefore: now.Add(-clockSkew), NotAfter: now.Add(leafDays * validityUnit),
		DNSNames: []string{name + ".cluster.internal"}, IPAddresses: []net.IP{ip},
	}, key.Public(), a.inter, a.interKey, nil)
	if err != nil {
		return credential{}, fmt.Errorf("leaf %s: %w", name, err)
	}
	chainPEM := pki.EncodeCertificatesPEM(leaf, a.inter)
	keyPEM, err := pki.EncodePrivateKeyPEM(key)
	if err != nil {
		return credential{}, fmt.Errorf("key %s: %w", name, err)
	}
	certs, err := pki.ParseCertificatesPEM(chainPEM, pqc.SignatureSchemes())
	if err != nil {
		return credential{}, fmt.Errorf("load chain %s: %w", name, err)
	}
	loaded, err := pki.ParsePrivateKeyPEM(keyPEM, pqc.SignatureSchemes(), nil, nil)
	if err != nil {
		return credential{}, fmt.Errorf("load key %s: %w", name, err)
	}
	chain := make([][]byte, len(certs))
	for i, c := range certs {
		chain[i] = c.Raw
	}
	return credential{name: name, identity: transport.Identity{Signer: loaded, Chain: chain}, leaf: certs[0], chainPEM: chainPEM}, nil
}

// nodeIP is the address of honest node i on the fake network.
func nodeIP(i int) net.IP { return net.IPv4(10, 0, 0, byte(i+1)) }

// nodeAddr is the transport address of honest node i.
func nodeAddr(i int) string { return fmt.Sprintf("%s:7946", nodeIP(i)) }
