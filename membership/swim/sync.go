package swim

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// Join exchanges full state with each seed (a seed may be known by address
// only) and returns how many answered. It fails only if none did.
func (n *Node) Join(ctx context.Context, seeds []core.Peer) (int, error) {
	if n.isClosed() {
		return 0, fmt.Errorf("swim: join: %w", core.ErrClosed)
	}
	var ok int
	var errs []error
	for _, s := range seeds {
		if s.ID == n.id {
			continue
		}
		if err := n.pushPull(ctx, s); err != nil {
			errs = append(errs, err)
			continue
		}
		ok++
	}
	if ok == 0 && len(errs) > 0 {
		return 0, fmt.Errorf("swim: join: no seed answered: %w", errors.Join(errs...))
	}
	return ok, nil
}

// Leave announces this node's departure: a signed leave record, pushed to up
// to GossipNodes members and queued for gossip. The node stops probing but
// keeps answering until Shutdown, so give gossip a moment before shutting
// down. Leave fails if no member accepted the record before ctx ended.
func (n *Node) Leave(ctx context.Context) error {
	var rec *record
	var targets []core.Peer
	var err error
	n.run(func(*outbox) {
		if n.selfLeave != nil {
			return
		}
		rec, err = signRecord(n.cfg.Signer, record{kind: kindLeave, subject: n.id, issuer: n.id, inc: n.inc})
		if err != nil {
			return
		}
		n.selfLeave = rec
		n.queue.push(rec.notice())
		for _, m := range n.kRandomLocked(n.cfg.GossipNodes, func(m *member) bool { return m.state == StateAlive }) {
			targets = append(targets, n.peerLocked(m.id))
		}
	})
	if n.isClosed() {
		return fmt.Errorf("swim: leave: %w", core.ErrClosed)
	}
	if err != nil || rec == nil {
		return err
	}
	payload := appendRequest(nil, &request{typ: reqPush, records: []*record{rec}})
	var errs []error
	for _, t := range targets {
		if _, err := n.msgr.Request(ctx, t, payload); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	if len(errs) > 0 {
		return fmt.Errorf("swim: leave: no member took the leave record: %w", errors.Join(errs...))
	}
	return nil
}

// pushPullTick exchanges state with one random alive member, at an interval
// scaled with the cluster size.
func (n *Node) pushPullTick() {
	var peer *core.Peer
	n.run(func(*outbox) {
		n.afterLocked(n.cfg.pushPullPeriod(n.liveCountLocked()), n.pushPullTick)
		if ms := n.kRandomLocked(1, func(m *member) bool { return m.state == StateAlive }); len(ms) == 1 {
			p := n.peerLocked(ms[0].id)
			peer = &p
		}
	})
	if peer != nil {
		n.pushPullLogged(*peer)
	}
}

// reconnectTick exchanges state with one random dead member: if it is alive
// on the far side of a healed partition, the exchange merges the two views.
func (n *Node) reconnectTick() {
	var peer *core.Peer
	n.run(func(*outbox) {
		n.afterLocked(n.cfg.ReconnectInterval, n.reconnectTick)
		if ms := n.kRandomLocked(1, func(m *member) bool { return m.state == StateDead }); len(ms) == 1 {
			p := n.peerLocked(ms[0].id)
			peer = &p
		}
	})
	if peer != nil {
		n.pushPullLogged(*peer)
	}
}

func (n *Node) pushPullLogged(p core.Peer) {
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.RequestTimeout)
	defer cancel()
	if err := n.pushPull(ctx, p); err != nil {
		n.log.Debug("swim: push-pull", "peer", p.ID.Short(), "err", err)
	}
}

// pushPull sends this node's summary to p and applies the records p returns;
// p pulls what it lacks in turn.
func (n *Node) pushPull(ctx context.Context, p core.Peer) error {
	var summary []notice
	n.run(func(*outbox) {
		n.stats.PushPulls++
		summary = n.summaryLocked()
	})
	reply, err := n.msgr.Request(ctx, p, appendRequest(nil, &request{typ: reqPushPull, summary: summary}))
	var recs []*record
	if err == nil {
		recs, err = decodeReply(reply)
	}
	if err != nil {
		n.run(func(*outbox) { n.stats.PushPullsFailed++ })
		return fmt.Errorf("swim: push-pull with %s: %w", p, err)
	}
	n.ingest(ctx, recs, true)
	return nil
}

// summaryLocked lists a notice of every record this node holds, by subject.
func (n *Node) summaryLocked() []notice {
	var out []notice
	for _, r := range n.recordsOfLocked(n.id) {
		out = append(out, r.notice())
	}
	for _, m := range n.sorted {
		for _, r := range m.records() {
			out = append(out, r.notice())
		}
	}
	return out
}

// peerView is what a push-pull summary says the sender holds about one subject.
type peerView struct {
	digests  map[digest]bool
	top      key // highest (incarnation, kind) it holds
	alive    bool
	aliveInc uint64
	aliveDig digest
}

// missingForLocked returns the records a peer with this summary lacks and
// would accept: anything above its view of a subject, further confirmations
// of a suspicion it holds, and newer (or tie-winning) alive records.
func (n *Node) missingForLocked(summary []notice) []*record {
	views := make(map[core.NodeID]*peerView)
	for _, nt := range summary {
		if nt.subject != n.id && n.members[nt.subject] == nil {
			continue // only subjects this node holds records of are compared
		}
		v := views[nt.subject]
		if v == nil {
			v = &peerView{digests: make(map[digest]bool), top: key{0, -1}}
			views[nt.subject] = v
		}
		v.digests[nt.digest] = true
		if v.top.less(nt.key()) {
			v.top = nt.key()
		}
		if nt.kind == kindAlive && (!v.alive || nt.inc > v.aliveInc || (nt.inc == v.aliveInc && bytes.Compare(nt.digest[:], v.aliveDig[:]) > 0)) {
			v.alive, v.aliveInc, v.aliveDig = true, nt.inc, nt.digest
		}
	}
	var out []*record
	offer := func(id core.NodeID) {
		v := views[id]
		if v == nil && n.goneLocked(id) {
			return // a peer that never knew a gone member does not keep its tombstone
		}
		for _, r := range n.recordsOfLocked(id) {
			if v == nil {
				out = append(out, r)
				continue
			}
			d := r.digest()
			if v.digests[d] {
				continue
			}
			switch {
			case v.top.less(r.key()),
				r.key() == v.top && r.kind == kindSuspect,
				r.kind == kindAlive && (!v.alive || r.inc > v.aliveInc || (r.inc == v.aliveInc && bytes.Compare(d[:], v.aliveDig[:]) > 0)):
				out = append(out, r)
			}
		}
	}
	offer(n.id)
	for _, m := range n.sorted {
		offer(m.id)
	}
	return out
}
