package swim

import (
	"time"

	"github.com/snowmerak/clustering/core"
)

// probe is one round of failure detection of one target.
type probe struct {
	target  core.NodeID
	start   time.Time
	helpers map[core.NodeID]bool // asked to probe indirectly; true once they nacked
	nacks   int
	timeout *tracked // end of the direct phase
	expiry  *tracked // end of the probe
}

// relay is an indirect probe this node makes for another member.
type relay struct {
	requester core.Peer
	seq       uint32 // the requester's sequence number
	target    core.NodeID
	nack      bool
	timer     *tracked
}

// relayNackFraction is the part of ProbeTimeout a helper waits for the
// target before it nacks, so the nack reaches the prober before its probe
// ends. (memberlist waits the whole ProbeTimeout, so with its LAN defaults
// nacks arrive after the prober's deadline and raise its health score.)
const relayNackFraction = 0.8

func (n *Node) nextSeqLocked() uint32 {
	n.seq++
	return n.seq
}

// probeTick starts the next probe and schedules the one after it, stretched
// by the local health multiplier.
func (n *Node) probeTick() {
	n.run(func(o *outbox) {
		interval := n.aware.scale(n.cfg.ProbeInterval)
		n.afterLocked(interval, n.probeTick)
		if n.selfLeave != nil {
			return
		}
		if m := n.nextTargetLocked(); m != nil {
			n.startProbeLocked(o, m, interval)
		}
	})
}

// nextTargetLocked walks the shuffled probe order, reshuffling when it wraps,
// and returns the next alive or suspect member (nil if there is none).
func (n *Node) nextTargetLocked() *member {
	for range 2 {
		for n.probeIdx < len(n.probeOrder) {
			id := n.probeOrder[n.probeIdx]
			n.probeIdx++
			if m := n.members[id]; m != nil && (m.state == StateAlive || m.state == StateSuspect) {
				return m
			}
		}
		n.probeOrder = n.probeOrder[:0]
		for _, m := range n.sorted {
			if m.state == StateAlive || m.state == StateSuspect {
				n.probeOrder = append(n.probeOrder, m.id)
			}
		}
		n.rng.Shuffle(len(n.probeOrder), func(i, j int) {
			n.probeOrder[i], n.probeOrder[j] = n.probeOrder[j], n.probeOrder[i]
		})
		n.probeIdx = 0
	}
	return nil
}

// startProbeLocked pings m directly; a ping of a suspect carries the
// suspicion first, so the target learns of it and can refute (buddy system).
func (n *Node) startProbeLocked(o *outbox, m *member, interval time.Duration) {
	seq := n.nextSeqLocked()
	p := &probe{target: m.id, start: n.clock.Now()}
	n.probes[seq] = p
	n.stats.Probes++
	var buddy *core.NodeID
	if m.state == StateSuspect {
		buddy = &m.id
	}
	n.sendLocked(o, n.peerLocked(m.id), &datagram{typ: msgPing, seq: seq}, buddy, nil)
	p.timeout = n.afterLocked(n.cfg.ProbeTimeout, func() { n.probeIndirect(seq) })
	p.expiry = n.afterLocked(interval, func() { n.probeExpired(seq) })
}

// probeIndirect asks IndirectChecks alive members to probe the target.
func (n *Node) probeIndirect(seq uint32) {
	n.run(func(o *outbox) {
		p := n.probes[seq]
		if p == nil {
			return
		}
		p.helpers = make(map[core.NodeID]bool)
		helpers := n.kRandomLocked(n.cfg.IndirectChecks, func(m *member) bool {
			return m.id != p.target && m.state == StateAlive
		})
		target := n.peerLocked(p.target)
		for _, h := range helpers {
			p.helpers[h.id] = false
			n.stats.IndirectProbes++
			n.sendLocked(o, n.peerLocked(h.id), &datagram{typ: msgPingReq, seq: seq, target: p.target, addr: target.Addr, wantNack: true}, nil, nil)
		}
	})
}

// probeExpired ends a probe that got no ack: the target is suspected, and
// the health score rises by the nacks that did not come (Lifeguard: helpers
// that answer show the problem is the target, silence shows it is us).
func (n *Node) probeExpired(seq uint32) {
	var target core.NodeID
	n.run(func(*outbox) {
		if p := n.probes[seq]; p != nil {
			target = p.target
		}
	})
	if target.IsZero() {
		return
	}
	n.mutate(target, func(*outbox) {
		p := n.probes[seq]
		if p == nil {
			return
		}
		n.endProbeLocked(seq, p)
		n.stats.ProbeFailures++
		if len(p.helpers) > 0 {
			n.aware.apply(len(p.helpers) - p.nacks)
		} else {
			n.aware.apply(1)
		}
		if m := n.members[p.target]; m != nil {
			n.log.Debug("swim: probe failed", "target", p.target.Short(), "nacks", p.nacks, "helpers", len(p.helpers))
			n.accuseLocked(m)
		}
	})
}

func (n *Node) endProbeLocked(seq uint32, p *probe) {
	delete(n.probes, seq)
	n.cancelLocked(p.timeout)
	n.cancelLocked(p.expiry)
}

// handleAckLocked completes a probe (an ack from its target, or relayed by
// one of its helpers) or forwards an ack for a relay this node runs.
func (n *Node) handleAckLocked(o *outbox, from core.Peer, seq uint32) {
	if p := n.probes[seq]; p != nil {
		_, helper := p.helpers[from.ID]
		if from.ID != p.target && !helper {
			return
		}
		n.endProbeLocked(seq, p)
		n.aware.apply(-1)
		if m := n.members[p.target]; m != nil && from.ID == p.target {
			m.rtt = n.clock.Now().Sub(p.start)
		}
		return
	}
	if r := n.relays[seq]; r != nil && from.ID == r.target {
		delete(n.relays, seq)
		n.cancelLocked(r.timer)
		n.sendLocked(o, r.requester, &datagram{typ: msgAck, seq: r.seq}, nil, nil)
	}
}

// handleNackLocked counts a helper's nack of a probe.
func (n *Node) handleNackLocked(from core.Peer, seq uint32) {
	p := n.probes[seq]
	if p == nil {
		return
	}
	if nacked, helper := p.helpers[from.ID]; helper && !nacked {
		p.helpers[from.ID] = true
		p.nacks++
	}
}

// maxRelaysPerPeer bounds the indirect probes one member can have this node
// run at once. An honest prober asks a helper at most once a probe interval
// and a relay ends within the probe timeout, so a few suffice; more would
// let a member turn small ping-reqs into full pings towards another member.
const maxRelaysPerPeer = 4

// handlePingReqLocked probes a target on a member's behalf.
func (n *Node) handlePingReqLocked(o *outbox, from core.Peer, d *datagram) {
	if d.target == n.id || d.target == from.ID {
		return
	}
	running := 0
	for _, r := range n.relays {
		if r.requester.ID == from.ID {
			running++
		}
	}
	if running >= maxRelaysPerPeer {
		return
	}
	to := n.peerLocked(d.target)
	if n.members[d.target] == nil {
		// Only members this node knows are probed: a ping-req naming any
		// other ID would have this node dial whatever address the
		// requester chose, a reflector for handshakes.
		if d.wantNack {
			n.sendLocked(o, from, &datagram{typ: msgNack, seq: d.seq}, nil, nil)
		}
		return
	}
	if !to.Addr.IsValid() {
		to.Addr = d.addr
	}
	seq := n.nextSeqLocked()
	r := &relay{requester: from, seq: d.seq, target: d.target, nack: d.wantNack}
	n.relays[seq] = r
	n.sendLocked(o, to, &datagram{typ: msgPing, seq: seq}, &d.target, nil)
	wait := time.Duration(float64(n.cfg.ProbeTimeout) * relayNackFraction)
	r.timer = n.afterLocked(wait, func() {
		n.run(func(o *outbox) {
			if n.relays[seq] != r {
				return
			}
			delete(n.relays, seq)
			if r.nack {
				n.sendLocked(o, r.requester, &datagram{typ: msgNack, seq: r.seq}, nil, nil)
			}
		})
	})
}
