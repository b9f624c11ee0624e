package transport

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

// localIdentity is this endpoint's parsed identity.
type localIdentity struct {
	signer      core.Signer
	chain       [][]byte
	certs       []*pki.Certificate
	fingerprint [fingerprintSize]byte
	id          core.NodeID
	// initiatorID and responderID are the encoded identities of a
	// new-session M3 and of an M2 carrying the chain, made once.
	initiatorID, responderID []byte
}

func newLocalIdentity(id Identity, schemes []core.SignatureScheme) (*localIdentity, error) {
	li := &localIdentity{signer: id.Signer, chain: id.Chain, fingerprint: chainFingerprint(id.Chain)}
	li.encodeIdentities()
	for i, der := range id.Chain {
		c, err := pki.ParseCertificate(der, schemes)
		if err != nil {
			return nil, fmt.Errorf("transport identity: certificate %d: %w", i, err)
		}
		li.certs = append(li.certs, c)
	}
	li.id = li.certs[0].NodeID()
	if core.NodeIDOf(id.Signer.Public()) != li.id {
		return nil, fmt.Errorf("transport identity: the signer's key is not the leaf certificate's key: %w", core.ErrInvalidInput)
	}
	return li, nil
}

// encodeIdentities encodes the chain as a new-session M3 and an M2 send it.
func (li *localIdentity) encodeIdentities() {
	li.initiatorID = (&identity{intent: intentNew, kind: certChain, chain: li.chain}).marshal(true)
	li.responderID = (&identity{kind: certChain, chain: li.chain}).marshal(false)
}

// peerChain is a peer's parsed certificate chain, leaf first.
type peerChain struct {
	certs       []*pki.Certificate
	ders        [][]byte
	fingerprint [fingerprintSize]byte
	id          core.NodeID
}

func (p *peerChain) leaf() *pki.Certificate { return p.certs[0] }

// parseChain parses DER certificates whose chainFingerprint is fingerprint;
// nothing is verified. A trust store,
// when given, supplies the parsed form of CA certificates it already holds.
func parseChain(ders [][]byte, fingerprint [fingerprintSize]byte, schemes []core.SignatureScheme, ts *pki.TrustStore) (*peerChain, error) {
	pc := &peerChain{ders: ders, fingerprint: fingerprint}
	if ts != nil {
		certs, err := ts.ParseChain(ders, schemes)
		if err != nil {
			return nil, err
		}
		pc.certs = certs
	} else {
		for i, der := range ders {
			c, err := pki.ParseCertificate(der, schemes)
			if err != nil {
				return nil, fmt.Errorf("certificate %d: %w", i, err)
			}
			pc.certs = append(pc.certs, c)
		}
	}
	pc.id = pc.certs[0].NodeID()
	return pc, nil
}

// chainCache holds chains that passed the policy, by fingerprint, so that a
// peer can name its chain by reference and so that a chain seen again is not
// parsed again. A cached chain is re-checked by the policy at every use.
// It also remembers which chain answered at which address, for M1's hint.
type chainCache struct {
	max int

	mu     sync.Mutex
	lru    *list.List // of *peerChain, most recent first
	byFP   map[[fingerprintSize]byte]*list.Element
	byAddr map[netip.AddrPort][fingerprintSize]byte
}

func newChainCache(max int) *chainCache {
	return &chainCache{max: max, lru: list.New(), byFP: make(map[[fingerprintSize]byte]*list.Element), byAddr: make(map[netip.AddrPort][fingerprintSize]byte)}
}

func (c *chainCache) get(fp [fingerprintSize]byte) *peerChain {
	if c.max < 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byFP[fp]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*peerChain)
	}
	return nil
}

// forAddr returns the chain last verified at addr, if still cached.
func (c *chainCache) forAddr(addr netip.AddrPort) *peerChain {
	c.mu.Lock()
	fp, ok := c.byAddr[addr]
	c.mu.Unlock()
	if !ok {
		return nil
	}
	return c.get(fp)
}

// put caches a verified chain, remembering addr when valid.
func (c *chainCache) put(pc *peerChain, addr netip.AddrPort) {
	if c.max < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if addr.IsValid() {
		if len(c.byAddr) >= c.max {
			clear(c.byAddr) // a rare reset is cheaper than an LRU for hints
		}
		c.byAddr[addr] = pc.fingerprint
	}
	if e, ok := c.byFP[pc.fingerprint]; ok {
		c.lru.MoveToFront(e)
		return
	}
	c.byFP[pc.fingerprint] = c.lru.PushFront(pc)
	for c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*peerChain)
		delete(c.byFP, old.fingerprint)
	}
}

// policy applies a PeerPolicy.
type policy struct {
	p PeerPolicy
}

// checkChain checks the leaf's validity and, with a trust store, the whole
// chain at now. Together with checkMember it decides whether the chain's
// holder may hold a session; the holder's possession of the leaf key is
// proven separately (the transcript signature). It does no I/O, so a
// responder runs it next to the transcript signature check.
func (p *policy) checkChain(now time.Time, pc *peerChain) (Reason, error) {
	leaf := pc.leaf()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return ReasonExpired, fmt.Errorf("leaf certificate (%s) valid %s to %s, now %s", leaf.Subject, leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if p.p.Trust != nil {
		if _, err := p.p.Trust.Verify(pc.certs, pki.VerifyOptions{Now: now, KeyUsages: p.p.KeyUsages}); err != nil {
			return chainReason(err), fmt.Errorf("verify chain: %w", err)
		}
	}
	return ReasonNone, nil
}

// checkMember applies the pinned and member tiers.
func (p *policy) checkMember(ctx context.Context, pc *peerChain) (Reason, error) {
	if len(p.p.Pinned) > 0 && !slices.Contains(p.p.Pinned, pc.id) {
		return ReasonNotAllowed, fmt.Errorf("node %s is not pinned", pc.id.Short())
	}
	if p.p.Members != nil {
		ctx, cancel := context.WithTimeout(ctx, policyTimeout)
		defer cancel()
		if _, err := p.p.Members.Get(ctx, pc.id); err != nil {
			if errors.Is(err, core.ErrNotFound) {
				return ReasonNotAllowed, fmt.Errorf("node %s is not a member: %w", pc.id.Short(), err)
			}
			return ReasonInternal, fmt.Errorf("member lookup for node %s: %w", pc.id.Short(), err)
		}
	}
	return ReasonNone, nil
}

// chainReason classifies a pki verification error.
func chainReason(err error) Reason {
	switch {
	case errors.Is(err, pki.ErrExpired), errors.Is(err, pki.ErrNotYetValid):
		return ReasonExpired
	case errors.Is(err, pki.ErrRevoked):
		return ReasonRevoked
	case errors.Is(err, core.ErrInvalidInput):
		return ReasonBadCertificate
	}
	return ReasonUntrusted
}
