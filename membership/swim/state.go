package swim

import (
	"bytes"
	"net/netip"
	"slices"
	"time"

	"github.com/snowmerak/clustering/core"
)

// member is this node's view of another member and the signed records it
// rests on. Invariants: inc ≥ alive.inc; status is nil exactly when state is
// alive; confirms are suspect records at (inc, suspect) by further accusers.
type member struct {
	id       core.NodeID
	alive    *record // newest alive record: highest incarnation, then hash
	state    State
	inc      uint64
	status   *record   // the suspect, dead or leave record behind state
	confirms []*record // confirmations of a suspicion
	since    time.Time
	goneInc  uint64 // highest incarnation at which the member was dead or departed (0: never)
	rtt      time.Duration
	addr     netip.AddrPort
	susp     *suspicion
	reap     *tracked
}

// stateKey orders the member's state against incoming records.
func (m *member) stateKey() key {
	return key{m.inc, int(m.state) - 1}
}

// records returns every record the member's state rests on.
func (m *member) records() []*record {
	var out []*record
	if m.alive != nil {
		out = append(out, m.alive)
	}
	if m.status != nil {
		out = append(out, m.status)
	}
	return append(out, m.confirms...)
}

func (m *member) find(d digest) *record {
	for _, r := range m.records() {
		if r.digest() == d {
			return r
		}
	}
	return nil
}

func (m *member) snapshot() MemberState {
	s := MemberState{ID: m.id, State: m.state, Incarnation: m.inc, RTT: m.rtt, Since: m.since}
	if m.alive != nil {
		s.Meta = m.alive.meta
		s.Credential = m.alive.credential
	}
	return s
}

// aliveInc is the incarnation of the member's newest alive record (0 if none).
func (m *member) aliveInc() uint64 {
	if m.alive == nil {
		return 0
	}
	return m.alive.inc
}

// recordsOfLocked returns the records this node holds about id (itself included).
func (n *Node) recordsOfLocked(id core.NodeID) []*record {
	if id == n.id {
		if n.selfLeave != nil {
			return []*record{n.selfAlive, n.selfLeave}
		}
		return []*record{n.selfAlive}
	}
	if m := n.members[id]; m != nil {
		return m.records()
	}
	return nil
}

// goneLocked reports whether member id (or this node) is dead or departed.
func (n *Node) goneLocked(id core.NodeID) bool {
	if id == n.id {
		return n.selfLeave != nil
	}
	m := n.members[id]
	return m != nil && (m.state == StateDead || m.state == StateLeft)
}

// addMemberLocked starts tracking a member.
func (n *Node) addMemberLocked(id core.NodeID) *member {
	m := &member{id: id, since: n.clock.Now()}
	n.members[id] = m
	i, _ := slices.BinarySearchFunc(n.sorted, id, byID)
	n.sorted = slices.Insert(n.sorted, i, m)
	// A random slot in the probe order keeps the detection bound low
	// on average, as memberlist does.
	j := n.rng.IntN(len(n.probeOrder) + 1)
	n.probeOrder = slices.Insert(n.probeOrder, j, id)
	if j < n.probeIdx {
		n.probeIdx++
	}
	return m
}

func byID(m *member, id core.NodeID) int { return bytes.Compare(m.id[:], id[:]) }

// countLocked keeps n.live: it removes m's contribution (add false) before a
// change and restores it (add true) after.
func (n *Node) countLocked(m *member, add bool) {
	if m.state == StateAlive || m.state == StateSuspect {
		if add {
			n.live++
		} else {
			n.live--
		}
	}
}

// removeMemberLocked forgets a member.
func (n *Node) removeMemberLocked(m *member) {
	n.clearSuspicionLocked(m)
	n.cancelLocked(m.reap)
	n.trackSuspectLocked(m.id, false)
	n.countLocked(m, false)
	delete(n.members, m.id)
	if i, ok := slices.BinarySearchFunc(n.sorted, m.id, byID); ok {
		n.sorted = slices.Delete(n.sorted, i, i+1)
	}
	if i := slices.Index(n.probeOrder, m.id); i >= 0 {
		n.probeOrder = slices.Delete(n.probeOrder, i, i+1)
		if i < n.probeIdx {
			n.probeIdx--
		}
	}
}

// setStateLocked moves m to a new state resting on status (nil for alive).
func (n *Node) setStateLocked(m *member, s State, inc uint64, status *record) {
	n.clearSuspicionLocked(m)
	n.cancelLocked(m.reap)
	m.reap = nil
	if m.state != s {
		m.since = n.clock.Now()
	}
	n.countLocked(m, false)
	m.state, m.inc, m.status, m.confirms = s, inc, status, nil
	n.countLocked(m, true)
	n.trackSuspectLocked(m.id, s == StateSuspect)
	if s == StateDead || s == StateLeft {
		m.goneInc = max(m.goneInc, inc)
		since := m.since
		m.reap = n.afterLocked(n.cfg.TombstoneTimeout, func() { n.reapMember(m.id, since) })
	}
}

func (n *Node) clearSuspicionLocked(m *member) {
	if m.susp != nil {
		n.cancelLocked(m.susp.timer)
		m.susp = nil
	}
}

// applyLocked applies a verified record. sync marks records that came by
// anti-entropy (push-pull, or a repair notice) rather than as fresh gossip,
// and prior is the subject's state before the batch (0 if unknown). A dead
// verdict about a member this node believed alive or suspect only makes this
// node suspect it, giving the member time to refute, when the verdict comes
// by anti-entropy (memberlist's rule for merged state) or was signed by the
// accuser in an incarnation this node held dead. This is what stops
// verdicts from one side of a healed partition killing live members on the
// other, even after their accusers have refuted their own deaths. Any other
// member's dead verdict about a member this node knew before the batch is
// applied only once this node's own suspicion of it has run for the
// shortest suspicion timeout; before that it only makes this node suspect
// the member (and counts as its accuser's confirmation), so a single member
// cannot take another out of the placement before it could refute.
func (n *Node) applyLocked(rec *record, sync bool, prior State) {
	if rec.subject == n.id {
		n.applySelfLocked(rec)
		return
	}
	m := n.members[rec.subject]
	switch rec.kind {
	case kindAlive:
		if m == nil {
			if n.departed.obsolete(rec.subject, rec.inc) {
				return // a replay from before the member left
			}
			n.departed.forget(rec.subject)
			m = n.addMemberLocked(rec.subject)
		}
		if m.alive != nil && (rec.inc < m.alive.inc || (rec.inc == m.alive.inc && bytes.Compare(rec.hash[:], m.alive.hash[:]) <= 0)) {
			return
		}
		m.alive = rec
		if rec.meta.Addr.IsValid() {
			m.addr = rec.meta.Addr
		}
		if rec.inc > m.inc || (rec.inc == m.inc && m.state == StateAlive) {
			n.setStateLocked(m, StateAlive, rec.inc, nil)
		}
		n.queue.push(rec.notice())

	case kindSuspect, kindDead:
		if m == nil || m.alive == nil || rec.inc != m.alive.inc {
			return // accusations must name an incarnation the member announced
		}
		if rec.kind == kindDead && rec.issuer != n.id && prior != 0 {
			if (prior == StateAlive || prior == StateSuspect) && (sync || n.wasGoneLocked(rec.issuer, rec.issuerInc)) {
				n.accuseLocked(m)
				return
			}
			if !n.suspicionRipeLocked(m, rec.inc) {
				// A verdict that outruns this node's own suspicion counts
				// as its accuser's suspicion: one member alone cannot
				// evict another before the accused had time to refute.
				n.accuseLocked(m)
				n.confirmLocked(m, rec.issuer)
				return
			}
		}
		switch k, sk := rec.key(), m.stateKey(); {
		case sk.less(k):
			n.setStateLocked(m, rec.kind.state(), rec.inc, rec)
			if rec.kind == kindSuspect {
				n.startSuspicionLocked(m, rec.issuer)
			}
			n.queue.push(rec.notice())
		case k == sk && rec.kind == kindSuspect && m.susp != nil && m.susp.confirm(rec.issuer):
			m.confirms = append(m.confirms, rec)
			n.cancelLocked(m.susp.timer)
			n.armSuspicionLocked(m)
			n.queue.push(rec.notice())
		}

	case kindLeave:
		if m == nil {
			m = n.addMemberLocked(rec.subject)
		} else if !m.stateKey().less(rec.key()) {
			return
		}
		n.setStateLocked(m, StateLeft, rec.inc, rec)
		n.queue.push(rec.notice())
	}
}

// suspicionRipeLocked reports whether this node has suspected m at
// incarnation inc for at least the shortest suspicion timeout, the earliest
// an honest accuser, however confirmed, declares a member dead.
func (n *Node) suspicionRipeLocked(m *member, inc uint64) bool {
	return m.state == StateSuspect && m.inc == inc && m.susp != nil && n.clock.Now().Sub(m.susp.start) >= m.susp.min
}

// confirmLocked counts issuer as a confirmation of the standing suspicion
// of m, if it is a new one, and shortens the suspicion's timer accordingly.
func (n *Node) confirmLocked(m *member, issuer core.NodeID) {
	if m.state == StateSuspect && m.susp != nil && m.susp.confirm(issuer) {
		n.cancelLocked(m.susp.timer)
		n.armSuspicionLocked(m)
	}
}

// wasGoneLocked reports whether this node held member id dead or departed
// in incarnation inc (or holds it so now).
func (n *Node) wasGoneLocked(id core.NodeID, inc uint64) bool {
	m := n.members[id]
	return m != nil && (m.state == StateDead || m.state == StateLeft || inc <= m.goneInc)
}

// applySelfLocked handles a verified record about this node: anything that
// claims more than the node's current alive record is refuted.
func (n *Node) applySelfLocked(rec *record) {
	if n.selfLeave != nil {
		return
	}
	switch rec.kind {
	case kindAlive:
		if rec.inc < n.inc || rec.hash == n.selfAlive.hash {
			return
		}
	case kindSuspect, kindDead:
		if rec.inc != n.inc {
			return
		}
	case kindLeave:
		if rec.inc < n.inc {
			return
		}
	}
	n.refuteLocked(rec.inc)
}

// refuteLocked announces alive with an incarnation above inc.
func (n *Node) refuteLocked(inc uint64) {
	prev := n.inc
	n.inc = max(n.inc, inc) + 1
	alive, err := n.signAlive()
	if err != nil {
		n.inc = prev
		n.log.Error("swim: sign refutation", "err", err)
		return
	}
	n.selfAlive = alive
	n.queue.push(alive.notice())
	n.aware.apply(1) // being accused suggests this node is slow to answer
	n.stats.Refutations++
	n.log.Info("swim: refuted accusation", "incarnation", n.inc)
}

// accuseLocked signs this node's own suspicion of m (or confirmation of an
// existing one) and applies it.
func (n *Node) accuseLocked(m *member) {
	if m.alive == nil || m.alive.inc != m.inc {
		return
	}
	switch m.state {
	case StateAlive:
	case StateSuspect:
		if m.susp == nil || m.susp.confirmations() >= m.susp.k {
			return
		}
		if _, done := m.susp.confirmed[n.id]; done {
			return
		}
	default:
		return
	}
	n.signAndApplyLocked(kindSuspect, m)
}

// signAndApplyLocked signs an accusation of m by this node and applies it.
func (n *Node) signAndApplyLocked(k kind, m *member) {
	rec, err := signRecord(n.cfg.Signer, record{kind: k, subject: m.id, issuer: n.id, inc: m.inc, issuerInc: n.inc})
	if err != nil {
		n.log.Error("swim: sign accusation", "kind", k, "of", m.id.Short(), "err", err)
		return
	}
	n.stats.Accusations++
	n.cache.put(rec.hash, true)
	n.applyLocked(rec, false, m.state)
}

// startSuspicionLocked starts the suspicion timer of m, first accused by issuer.
func (n *Node) startSuspicionLocked(m *member, issuer core.NodeID) {
	size := n.liveCountLocked()
	k := n.cfg.SuspicionMult - 2
	if size-2 < k {
		k = 0
	}
	lo, hi := n.cfg.SuspicionTimeouts(size)
	m.susp = newSuspicion(issuer, k, lo, hi, n.clock.Now())
	n.armSuspicionLocked(m)
}

// armSuspicionLocked (re)arms m's suspicion timer for the time remaining.
func (n *Node) armSuspicionLocked(m *member) {
	s := m.susp
	s.timer = n.afterLocked(s.remaining(n.clock.Now()), func() { n.suspicionExpired(m.id, s) })
}

// suspicionExpired declares a member dead if the suspicion s still stands.
func (n *Node) suspicionExpired(id core.NodeID, s *suspicion) {
	n.mutate(id, func(*outbox) {
		m := n.members[id]
		if m == nil || m.susp != s || m.state != StateSuspect {
			return
		}
		n.log.Info("swim: suspicion expired, declaring dead", "member", id.Short(), "confirmations", s.confirmations())
		n.signAndApplyLocked(kindDead, m)
	})
}

// reapMember forgets a member still dead or departed since the given time.
func (n *Node) reapMember(id core.NodeID, since time.Time) {
	n.mutate(id, func(*outbox) {
		if m := n.members[id]; m != nil && (m.state == StateDead || m.state == StateLeft) && m.since.Equal(since) {
			if m.state == StateLeft {
				n.departed.add(id, m.inc)
			}
			n.removeMemberLocked(m)
		}
	})
}

// mutate runs f like run, and reports the change it made to member id as an event.
func (n *Node) mutate(id core.NodeID, f func(o *outbox)) {
	n.run(func(o *outbox) {
		before, ok := n.snapLocked(id)
		f(o)
		n.diffLocked(id, before, ok)
	})
}

// snapLocked captures member id's state for diffLocked.
func (n *Node) snapLocked(id core.NodeID) (MemberState, bool) {
	m := n.members[id]
	if m == nil {
		return MemberState{}, false
	}
	return m.snapshot(), true
}

// diffLocked queues the event, if any, that turns before into member id's
// current state.
func (n *Node) diffLocked(id core.NodeID, before MemberState, existed bool) {
	if id == n.id {
		return
	}
	m := n.members[id]
	var ev Event
	switch {
	case m == nil && !existed:
		return
	case m == nil:
		ev = Event{Kind: EventReap, Member: before, Previous: before.State}
	case !existed:
		if m.state != StateAlive && m.state != StateSuspect {
			return // a tombstone of a member never seen alive
		}
		ev = Event{Kind: EventJoin, Member: m.snapshot()}
	case m.state != before.State:
		ev = Event{Member: m.snapshot(), Previous: before.State}
		switch m.state {
		case StateAlive:
			ev.Kind = EventAlive
			if before.State == StateDead || before.State == StateLeft {
				ev.Kind = EventJoin
			}
		case StateSuspect:
			ev.Kind = EventSuspect
		case StateDead:
			ev.Kind = EventDead
		case StateLeft:
			ev.Kind = EventLeave
		}
	default:
		now := m.snapshot()
		if m.state != StateAlive || (now.Meta.Equal(before.Meta) && bytes.Equal(now.Credential, before.Credential)) {
			return
		}
		ev = Event{Kind: EventUpdate, Member: now, Previous: before.State}
	}
	if n.cfg.Events != nil {
		ev.Member = ev.Member.clone()
		n.events = append(n.events, ev)
	}
}
