package swim

import (
	"context"
	"errors"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// verifyCache remembers signature verification results by record hash, so a
// record received again (re-gossiped, or re-sent by every push-pull) is
// verified once; records whose issuer's key did not resolve are not
// remembered (errUnresolved). It holds at most size results, forgetting the
// oldest first.
type verifyCache struct {
	results map[[32]byte]bool
	ring    [][32]byte
	next    int
}

func newVerifyCache(size int) *verifyCache {
	return &verifyCache{results: make(map[[32]byte]bool, size), ring: make([][32]byte, 0, size)}
}

func (c *verifyCache) get(h [32]byte) (valid, ok bool) {
	valid, ok = c.results[h]
	return valid, ok
}

func (c *verifyCache) put(h [32]byte, valid bool) {
	if _, ok := c.results[h]; ok {
		c.results[h] = valid
		return
	}
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, h)
	} else {
		delete(c.results, c.ring[c.next])
		c.ring[c.next] = h
		c.next = (c.next + 1) % len(c.ring)
	}
	c.results[h] = valid
}

// errUnresolved marks a record rejected because its issuer's key did not
// resolve. That verdict can change (a credential not yet valid, an accuser
// not yet known, a registry that did not answer, an operator adding the
// member), so unlike a bad signature it is not remembered.
var errUnresolved = errors.New("issuer key not resolved")

// verifyRecord checks rec's signature with its issuer's key: self is this
// node's own key (for records about or by itself), otherwise keys resolves it
// from the issuer's NodeID and credential, and the key must hash to that ID.
func verifyRecord(ctx context.Context, rec *record, keys KeyResolver, selfID core.NodeID, self core.PublicKey, credential []byte) error {
	pub := self
	if rec.issuer != selfID {
		var err error
		pub, err = keys.ResolveKey(ctx, rec.issuer, credential)
		if err != nil {
			return fmt.Errorf("record %s of %s: issuer %s: %w: %w", rec.kind, rec.subject.Short(), rec.issuer.Short(), errUnresolved, err)
		}
		if pub == nil || core.NodeIDOf(pub) != rec.issuer {
			return fmt.Errorf("record %s of %s: resolved key does not hash to issuer %s: %w", rec.kind, rec.subject.Short(), rec.issuer.Short(), core.ErrVerification)
		}
	}
	if !pub.Verify(rec.signedPart(), recordContext, rec.sig) {
		return fmt.Errorf("record %s of %s: bad signature by %s: %w", rec.kind, rec.subject.Short(), rec.issuer.Short(), core.ErrVerification)
	}
	return nil
}
