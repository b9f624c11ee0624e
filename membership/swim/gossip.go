package swim

import (
	"bytes"
	"context"
	"errors"
	"slices"

	"github.com/snowmerak/clustering/core"
)

// gossipTick sends pending notices to GossipNodes members: alive and suspect
// ones, and the recently dead so they can learn of their verdict and refute.
func (n *Node) gossipTick() {
	n.run(func(o *outbox) {
		n.afterLocked(n.cfg.GossipInterval, n.gossipTick)
		if n.queue.len() == 0 {
			return
		}
		now := n.clock.Now()
		targets := n.kRandomLocked(n.cfg.GossipNodes, func(m *member) bool {
			switch m.state {
			case StateAlive, StateSuspect:
				return true
			case StateDead:
				return now.Sub(m.since) < n.cfg.GossipToTheDeadTime
			}
			return false
		})
		for _, m := range targets {
			if n.queue.len() == 0 {
				return
			}
			n.sendLocked(o, n.peerLocked(m.id), &datagram{typ: msgGossip}, nil, nil)
		}
	})
}

// wantsLocked reports whether a record with notice nt could change this
// node's view, and so is worth pulling and verifying; needAlive says the
// subject's alive record is needed too (an accusation of an incarnation
// this node has not seen announced).
func (n *Node) wantsLocked(nt notice) (want, needAlive bool) {
	if nt.subject == n.id {
		if n.selfLeave != nil {
			return false, false
		}
		switch nt.kind {
		case kindAlive:
			return nt.inc > n.inc || (nt.inc == n.inc && nt.digest != n.selfAlive.digest()), false
		case kindLeave:
			return nt.inc >= n.inc, false
		}
		return nt.inc == n.inc, false
	}
	m := n.members[nt.subject]
	if m == nil {
		if n.departed.obsolete(nt.subject, nt.inc) {
			return false, false
		}
		return true, nt.kind == kindSuspect || nt.kind == kindDead
	}
	if m.find(nt.digest) != nil {
		return false, false
	}
	switch nt.kind {
	case kindAlive:
		if nt.inc != m.inc {
			return nt.inc > m.inc, false
		}
		return m.alive == nil || nt.inc > m.alive.inc || (nt.inc == m.alive.inc && bytes.Compare(nt.digest[:], m.alive.hash[:8]) > 0), false
	case kindSuspect, kindDead:
		k, sk := nt.key(), m.stateKey()
		if sk.less(k) {
			return true, nt.inc > m.aliveInc()
		}
		// A further accuser of a standing suspicion confirms it.
		return k == sk && nt.kind == kindSuspect && m.susp != nil && m.susp.confirmations() < m.susp.k, false
	}
	return m.stateKey().less(nt.key()), false
}

// maxPullsPerPeer bounds the pulls in flight from one peer, so that a peer
// cannot, by advertising records faster than it hands them over, make this
// node hold open requests and pending entries without bound. Notices heard
// meanwhile are not lost: they come again (self-notices ride every datagram,
// summaries every push-pull, and other members advertise the same records).
const maxPullsPerPeer = 4

// noticesLocked schedules a pull from the sender of every record its
// notices advertise that this node wants and is not already fetching.
func (n *Node) noticesLocked(from core.Peer, notices []notice, sync bool) {
	if n.pulling[from.ID] >= maxPullsPerPeer {
		return
	}
	now := n.clock.Now()
	// A member this node does not know and hears of as dead or departed is
	// not worth learning: tombstones are kept only of members once known
	// alive, or they would circulate for ever between nodes that reap them
	// at different times.
	var gone map[core.NodeID]bool
	for _, nt := range notices {
		if len(gone) == maxPulls {
			break // enough for one pull; the rest are pulled and dropped on arrival
		}
		if (nt.kind == kindDead || nt.kind == kindLeave) && nt.subject != n.id && n.members[nt.subject] == nil {
			if gone == nil {
				gone = make(map[core.NodeID]bool)
			}
			gone[nt.subject] = true
		}
	}
	var pulls []pullEntry
	for _, nt := range notices {
		if gone[nt.subject] {
			continue
		}
		if until, ok := n.pending[nt.digest]; ok && now.Before(until) {
			continue
		}
		if len(pulls) == maxPulls {
			break
		}
		want, needAlive := n.wantsLocked(nt)
		if !want {
			continue
		}
		n.pending[nt.digest] = now.Add(n.cfg.RequestTimeout)
		pulls = append(pulls, pullEntry{subject: nt.subject, digest: nt.digest, needAlive: needAlive})
	}
	if len(pulls) == 0 {
		return
	}
	n.pulling[from.ID]++
	n.afterLocked(0, func() { n.pull(from, pulls, sync) })
}

// pull fetches records from a member and applies them.
func (n *Node) pull(from core.Peer, pulls []pullEntry, sync bool) {
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.RequestTimeout)
	defer cancel()
	reply, err := n.msgr.Request(ctx, from, appendRequest(nil, &request{typ: reqPull, pulls: pulls}))
	var recs []*record
	if err == nil {
		recs, err = decodeReply(reply)
	}
	n.run(func(*outbox) {
		n.stats.Pulls++
		if n.pulling[from.ID]--; n.pulling[from.ID] <= 0 {
			delete(n.pulling, from.ID)
		}
		for _, p := range pulls {
			delete(n.pending, p.digest)
		}
		if err != nil {
			n.stats.PullsFailed++
			n.log.Debug("swim: pull", "from", from.ID.Short(), "err", err)
		}
	})
	if err == nil {
		n.ingest(ctx, recs, sync)
	}
}

// answerPullLocked returns the records a pull asks for. A record this node no
// longer holds is answered with the subject's current records instead.
func (n *Node) answerPullLocked(pulls []pullEntry) []*record {
	var out []*record
	add := func(r *record) {
		if r != nil && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, p := range pulls {
		recs := n.recordsOfLocked(p.subject)
		i := slices.IndexFunc(recs, func(r *record) bool { return r.digest() == p.digest })
		if i < 0 {
			for _, r := range recs[:min(2, len(recs))] { // alive and status
				add(r)
			}
			continue
		}
		if p.needAlive && recs[0].kind == kindAlive {
			add(recs[0])
		}
		add(recs[i])
		if recs[i].kind == kindAlive && len(recs) > 1 && n.goneLocked(p.subject) {
			add(recs[1]) // never an alive record without the verdict or departure that ends it
		}
	}
	return out
}

// ingest verifies and applies records received from a peer. Records are
// grouped by subject, alive records first, and each group is applied at
// once so the event reports its net effect. A record is verified only if it
// could change this node's view and its hash is not in the cache.
func (n *Node) ingest(ctx context.Context, recs []*record, sync bool) {
	slices.SortStableFunc(recs, func(a, b *record) int {
		if c := bytes.Compare(a.subject[:], b.subject[:]); c != 0 {
			return c
		}
		return a.kind.rank() - b.kind.rank()
	})

	// Phase 1, locked: pick the records worth checking.
	type candidate struct {
		rec        *record
		credential []byte
		verified   bool
		err        error
	}
	var cands []*candidate
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	epoch := n.trustEpoch
	batchAlive := make(map[core.NodeID]uint64)
	for _, rec := range recs {
		want, needAlive := n.wantsLocked(rec.notice())
		if !want {
			continue
		}
		if needAlive && batchAlive[rec.subject] != rec.inc {
			continue // an accusation of an incarnation nobody showed us
		}
		if rec.kind == kindAlive {
			batchAlive[rec.subject] = max(batchAlive[rec.subject], rec.inc)
		}
		c := &candidate{rec: rec}
		if valid, ok := n.cache.get(rec.hash); ok {
			n.stats.CacheHits++
			c.verified = true
			if !valid {
				c.err = core.ErrVerification
			}
		} else if rec.kind == kindAlive {
			c.credential = rec.credential
		} else if m := n.members[rec.issuer]; m != nil && m.alive != nil {
			c.credential = m.alive.credential
		}
		cands = append(cands, c)
	}
	n.mu.Unlock()

	// Phase 2, unlocked: verify signatures (key resolution may do I/O).
	for _, c := range cands {
		if !c.verified {
			c.err = verifyRecord(ctx, c.rec, n.cfg.Keys, n.id, n.pub, c.credential)
		}
	}

	// Phase 3, locked: apply, one subject at a time.
	n.run(func(*outbox) {
		if n.trustEpoch != epoch {
			// Recheck ran meanwhile: these verdicts (and cache hits) may
			// rest on the old trust. Anti-entropy brings the records again.
			n.log.Debug("swim: dropped records verified before a trust recheck", "records", len(cands))
			return
		}
		for i := 0; i < len(cands); {
			subject := cands[i].rec.subject
			before, existed := n.snapLocked(subject)
			for ; i < len(cands) && cands[i].rec.subject == subject; i++ {
				c := cands[i]
				if !c.verified {
					n.stats.Verified++
					// Only a verdict on the record itself is remembered: a
					// key that did not resolve may resolve later, and the
					// record must then count.
					if !errors.Is(c.err, errUnresolved) {
						n.cache.put(c.rec.hash, c.err == nil)
					}
				}
				if c.err != nil {
					n.stats.Rejected++
					n.log.Warn("swim: rejected record", "err", c.err)
					continue
				}
				n.applyLocked(c.rec, sync, before.State)
			}
			if m := n.members[subject]; !existed && m != nil && (m.state == StateDead || m.state == StateLeft) {
				// A tombstone only of a member this node knew; a departure
				// is still remembered, so a replay of it is not pulled again.
				if m.state == StateLeft {
					n.departed.add(subject, m.inc)
				}
				n.removeMemberLocked(m)
			}
			n.diffLocked(subject, before, existed)
		}
	})
}
