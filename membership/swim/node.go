package swim

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Node is one member's failure detector and gossip engine. It is event-driven:
// every action runs from a timer of the configured clock or from a message the
// Messenger delivers, and no goroutine of its own sleeps. It is safe for
// concurrent use.
type Node struct {
	cfg   Config
	id    core.NodeID
	pub   core.PublicKey
	msgr  core.Messenger
	clock core.Clock
	log   *slog.Logger

	mu     sync.Mutex
	closed bool
	rng    *rand.Rand
	timers map[*tracked]struct{}
	seq    uint32
	aware  awareness
	queue  broadcastQueue
	cache  *verifyCache
	// trustEpoch counts Recheck calls: records verified before one are
	// dropped rather than applied (they come again by gossip).
	trustEpoch uint64
	pending    map[digest]time.Time // pulls in flight, by record digest
	pulling    map[core.NodeID]int  // pulls in flight, by the peer asked
	stats      Stats

	// this node's own state
	inc       uint64
	meta      Meta
	selfAlive *record
	selfLeave *record // set once the node has left

	// the other members
	members    map[core.NodeID]*member
	sorted     []*member // members by ID, for deterministic iteration
	live       int       // members alive or suspect
	probeOrder []core.NodeID
	probeIdx   int
	suspects   []core.NodeID // members in StateSuspect, for reminders
	departed   departures    // members that left, after their tombstones
	remindIdx  int
	probes     map[uint32]*probe
	relays     map[uint32]*relay

	// events awaiting delivery, delivered one caller at a time
	events     []Event
	delivering bool
}

// New starts a node that reaches peers through m and takes time from clock.
// It installs itself as m's handler and starts its timers; call Join to meet
// the cluster.
func New(cfg Config, m core.Messenger, clock core.Clock) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if m == nil || clock == nil {
		return nil, fmt.Errorf("swim: new: messenger and clock are required: %w", core.ErrInvalidInput)
	}
	cfg.Meta = cfg.Meta.Clone()
	cfg.Credential = slices.Clone(cfg.Credential)
	n := &Node{
		cfg:     cfg,
		pub:     cfg.Signer.Public(),
		msgr:    m,
		clock:   clock,
		log:     cfg.Logger,
		rng:     cfg.Rand,
		timers:  make(map[*tracked]struct{}),
		aware:   awareness{max: cfg.AwarenessMaxMultiplier},
		cache:   newVerifyCache(cfg.VerifyCacheSize),
		pending: make(map[digest]time.Time),
		pulling: make(map[core.NodeID]int),
		meta:    cfg.Meta,
		members: make(map[core.NodeID]*member),
		probes:  make(map[uint32]*probe),
		relays:  make(map[uint32]*relay),
	}
	n.id = core.NodeIDOf(n.pub)
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	n.log = n.log.With("node", n.id.Short())
	if n.rng == nil {
		var seed [16]byte
		crand.Read(seed[:])
		n.rng = rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	}
	n.inc = cfg.Incarnation
	if n.inc == 0 {
		n.inc = uint64(max(clock.Now().UnixMilli(), 1))
	}
	alive, err := n.signAlive()
	if err != nil {
		return nil, err
	}
	n.selfAlive = alive

	n.mu.Lock()
	n.startTimersLocked()
	n.mu.Unlock()
	m.Handle(handler{n})
	return n, nil
}

// ID returns this node's NodeID.
func (n *Node) ID() core.NodeID { return n.id }

// Members returns every member this node knows, itself included, sorted by
// ID. Dead and departed members stay listed until TombstoneTimeout.
func (n *Node) Members() []MemberState {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]MemberState, 0, len(n.sorted)+1)
	out = append(out, n.selfStateLocked())
	for _, m := range n.sorted {
		out = append(out, m.snapshot().clone())
	}
	slices.SortFunc(out, func(a, b MemberState) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}

// Member returns this node's view of one member (itself included).
func (n *Node) Member(id core.NodeID) (MemberState, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if id == n.id {
		return n.selfStateLocked(), true
	}
	m := n.members[id]
	if m == nil {
		return MemberState{}, false
	}
	return m.snapshot().clone(), true
}

func (n *Node) selfStateLocked() MemberState {
	s := MemberState{ID: n.id, State: StateAlive, Incarnation: n.inc, Meta: n.meta.Clone(), Credential: slices.Clone(n.cfg.Credential)}
	if n.selfLeave != nil {
		s.State = StateLeft
	}
	return s
}

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.stats
	s.Health = n.aware.score
	return s
}

// UpdateMeta announces new metadata: a new alive record with a higher
// incarnation, gossiped like any other change.
func (n *Node) UpdateMeta(meta Meta) error {
	if err := meta.validate(); err != nil {
		return fmt.Errorf("swim: update meta: %w", err)
	}
	var err error
	n.run(func(*outbox) {
		if n.selfLeave != nil {
			err = fmt.Errorf("swim: update meta: node has left: %w", core.ErrClosed)
			return
		}
		prevMeta, prevInc, prev := n.meta, n.inc, n.selfAlive
		n.meta = meta.Clone()
		n.inc++
		if n.selfAlive, err = n.signAlive(); err != nil {
			n.meta, n.inc, n.selfAlive = prevMeta, prevInc, prev
			return
		}
		n.queue.push(n.selfAlive.notice())
	})
	if n.isClosed() {
		return fmt.Errorf("swim: update meta: %w", core.ErrClosed)
	}
	return err
}

// Shutdown stops every timer and ignores messages from then on. It does not
// announce a departure: call Leave first for that. It is idempotent.
func (n *Node) Shutdown() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	n.closed = true
	for t := range n.timers {
		t.timer.Stop()
	}
	clear(n.timers)
	n.events = nil
}

func (n *Node) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// signAlive signs this node's alive record at its current incarnation.
func (n *Node) signAlive() (*record, error) {
	return signRecord(n.cfg.Signer, record{kind: kindAlive, subject: n.id, issuer: n.id, inc: n.inc, meta: n.meta, credential: n.cfg.Credential})
}

// outbox collects what a locked section wants sent; run sends it after unlocking.
type outbox struct {
	dgrams []outDatagram
}

type outDatagram struct {
	to      core.Peer
	payload []byte
}

// run calls f with the lock held (unless the node is closed), then sends what
// f queued and delivers pending events, without the lock.
func (n *Node) run(f func(o *outbox)) {
	var o outbox
	n.mu.Lock()
	if !n.closed {
		f(&o)
	}
	n.mu.Unlock()
	for _, d := range o.dgrams {
		if err := n.msgr.SendDatagram(context.Background(), d.to, d.payload); err != nil {
			n.log.Debug("swim: send datagram", "to", d.to.ID.Short(), "err", err)
		}
	}
	n.deliverEvents()
}

// deliverEvents hands queued events to Config.Events, in order, from one
// goroutine at a time: a caller that finds another delivering leaves its
// events to it.
func (n *Node) deliverEvents() {
	n.mu.Lock()
	if n.delivering || len(n.events) == 0 {
		n.mu.Unlock()
		return
	}
	n.delivering = true
	for len(n.events) > 0 {
		ev := n.events[0]
		n.events = n.events[1:]
		n.mu.Unlock()
		n.cfg.Events(ev)
		n.mu.Lock()
	}
	n.delivering = false
	n.mu.Unlock()
}

// tracked is a timer the node owns, so Shutdown can stop it.
type tracked struct {
	timer core.Timer
}

// afterLocked schedules f after d on the node's clock; f runs without the
// lock and not at all once the node is closed.
func (n *Node) afterLocked(d time.Duration, f func()) *tracked {
	t := &tracked{}
	n.timers[t] = struct{}{}
	t.timer = n.clock.AfterFunc(d, func() {
		n.mu.Lock()
		_, live := n.timers[t]
		delete(n.timers, t)
		closed := n.closed
		n.mu.Unlock()
		if live && !closed {
			f()
		}
	})
	return t
}

// cancelLocked stops a tracked timer (nil is fine).
func (n *Node) cancelLocked(t *tracked) {
	if t == nil {
		return
	}
	t.timer.Stop()
	delete(n.timers, t)
}

// jitterLocked returns a random duration in [0, d), to stagger periodic timers.
func (n *Node) jitterLocked(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(n.rng.Int64N(int64(d)))
}

// startTimersLocked starts the periodic work, each at a random offset so that
// members do not synchronise.
func (n *Node) startTimersLocked() {
	n.afterLocked(n.jitterLocked(n.cfg.ProbeInterval), n.probeTick)
	n.afterLocked(n.jitterLocked(n.cfg.GossipInterval), n.gossipTick)
	n.afterLocked(n.jitterLocked(n.cfg.PushPullInterval), n.pushPullTick)
	if n.cfg.ReconnectInterval > 0 {
		n.afterLocked(n.jitterLocked(n.cfg.ReconnectInterval), n.reconnectTick)
	}
}

// peerLocked returns how to address a member.
func (n *Node) peerLocked(id core.NodeID) core.Peer {
	p := core.Peer{ID: id}
	if m := n.members[id]; m != nil {
		p.Addr = m.addr
	}
	return p
}

// kRandomLocked picks up to k distinct members that pass keep, uniformly.
func (n *Node) kRandomLocked(k int, keep func(m *member) bool) []*member {
	var pool []*member
	for _, m := range n.sorted {
		if keep(m) {
			pool = append(pool, m)
		}
	}
	for i := 0; i < len(pool) && i < k; i++ {
		j := i + n.rng.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return pool[:min(k, len(pool))]
}

// liveCountLocked estimates the cluster size: alive and suspect members plus self.
func (n *Node) liveCountLocked() int { return n.live + 1 }

// sendLocked queues a datagram to a member. Its spare room carries, in
// order: fixes (corrections for the recipient), pending notices (those about
// buddy ahead of the rest), and reminders of the suspicions this node holds.
func (n *Node) sendLocked(o *outbox, to core.Peer, d *datagram, buddy *core.NodeID, fixes []notice) {
	room := min((n.cfg.MaxDatagramSize-d.headerSize())/noticeSize, maxNotices)
	self := n.selfAlive
	if n.selfLeave != nil {
		self = n.selfLeave
	}
	d.self = self.notice()
	d.repairs = slices.Clone(fixes[:min(len(fixes), room)])
	d.notices = n.queue.take(room-len(d.repairs), n.cfg.retransmitLimit(n.liveCountLocked()), buddy)
	d.repairs = n.appendRemindersLocked(d.repairs, d.notices, room, buddy)
	size := d.headerSize() + (len(d.notices)+len(d.repairs))*noticeSize
	o.dgrams = append(o.dgrams, outDatagram{to: to, payload: appendDatagram(make([]byte, 0, size), d)})
}
