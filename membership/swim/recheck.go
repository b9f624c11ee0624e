package swim

import (
	"context"
	"errors"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// Recheck resolves the key of every alive or suspect member again through
// Config.Keys and declares dead at once each member whose key is now
// refused (the resolver answers core.ErrVerification or core.ErrNotFound: a
// certificate revoked or expired since, a member dropped from the
// allow-list), signing the verdict as a suspicion that ran out would. It
// first forgets the signature verdicts it remembered, so the records of a
// refused member, even ones seen before, count again only once its key
// resolves; records whose verification was under way are dropped (gossip
// brings them again). A member whose key fails to resolve for another
// reason (a registry that does not answer, ctx ended) is left as it is and
// the error returned. Call it after the resolver's trust changed (and its
// caches were cleared); it returns the members it declared dead.
//
// The verdict spreads as an accusation: nodes that still trust the member
// let it refute, so each node's view follows its own trust.
func (n *Node) Recheck(ctx context.Context) ([]core.NodeID, error) {
	type entry struct {
		id    core.NodeID
		alive *record
	}
	var live []entry
	n.mu.Lock()
	n.cache = newVerifyCache(n.cfg.VerifyCacheSize)
	n.trustEpoch++
	for _, m := range n.sorted {
		if m.alive != nil && (m.state == StateAlive || m.state == StateSuspect) {
			live = append(live, entry{m.id, m.alive})
		}
	}
	n.mu.Unlock()

	// Every member is resolved even once ctx has ended: a resolver that
	// refuses a bad chain before any I/O still refuses it then, so one slow
	// lookup cannot shield a revoked member that comes later.
	var dead []core.NodeID
	var errs []error
	for _, e := range live {
		_, err := n.cfg.Keys.ResolveKey(ctx, e.id, e.alive.credential)
		switch {
		case err == nil:
		case errors.Is(err, core.ErrVerification), errors.Is(err, core.ErrNotFound):
			declared := false
			n.mutate(e.id, func(*outbox) {
				m := n.members[e.id]
				if m == nil || m.alive != e.alive || (m.state != StateAlive && m.state != StateSuspect) {
					return // changed meanwhile, by records verified under the new trust
				}
				n.log.Info("swim: member's key refused, declaring dead", "member", e.id.Short(), "err", err)
				n.signAndApplyLocked(kindDead, m)
				declared = m.state == StateDead
			})
			if declared {
				dead = append(dead, e.id)
			}
		default:
			errs = append(errs, fmt.Errorf("swim: recheck member %s: %w", e.id.Short(), err))
		}
	}
	return dead, errors.Join(errs...)
}
