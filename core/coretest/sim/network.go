package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/snowmerak/clustering/core"
)

// ErrUnreachable reports a request to a peer that is unknown, detached,
// crashed, partitioned away or not handling messages.
var ErrUnreachable = errors.New("sim: peer unreachable")

// Link describes what happens to datagrams on a directed link. The zero value
// is a perfect link with no latency (deliveries still happen as clock events).
type Link struct {
	// Loss is the probability in [0, 1] that a datagram is dropped.
	Loss float64
	// Latency is the one-way delay; Jitter adds a uniform random [0, Jitter).
	Latency, Jitter time.Duration
}

// Stats counts one endpoint's traffic (or, from Network.Total, everyone's).
// Byte counts are payload bytes, without any transport overhead.
type Stats struct {
	// DatagramsSent counts SendDatagram calls, including those then lost.
	DatagramsSent int64
	// DatagramBytesSent counts the payload bytes of those datagrams.
	DatagramBytesSent int64
	// DatagramsReceived counts datagrams handed to this endpoint's handler.
	DatagramsReceived int64
	// MaxDatagram is the largest datagram payload sent, in bytes.
	MaxDatagram int
	// Requests counts Request calls made; RequestsFailed those that failed.
	Requests, RequestsFailed int64
	// RequestBytes and ReplyBytes count request payloads sent and replies received.
	RequestBytes, ReplyBytes int64
}

func (s *Stats) add(o Stats) {
	s.DatagramsSent += o.DatagramsSent
	s.DatagramBytesSent += o.DatagramBytesSent
	s.DatagramsReceived += o.DatagramsReceived
	s.MaxDatagram = max(s.MaxDatagram, o.MaxDatagram)
	s.Requests += o.Requests
	s.RequestsFailed += o.RequestsFailed
	s.RequestBytes += o.RequestBytes
	s.ReplyBytes += o.ReplyBytes
}

// Network is an in-memory message network in virtual time. Create it with
// NewNetwork; it is safe for concurrent use.
type Network struct {
	clock *Clock
	seed  int64

	mu       sync.Mutex
	rng      *rand.Rand
	byID     map[core.NodeID]*Endpoint
	byAddr   map[netip.AddrPort]*Endpoint
	def      Link
	links    map[[2]core.NodeID]Link
	blocked  map[[2]core.NodeID]bool
	crashed  map[core.NodeID]bool
	inflight int
}

// NewNetwork returns an empty network on clock whose loss and jitter decisions
// derive from seed.
func NewNetwork(clock *Clock, seed int64) *Network {
	return &Network{
		clock:   clock,
		seed:    seed,
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		byID:    make(map[core.NodeID]*Endpoint),
		byAddr:  make(map[netip.AddrPort]*Endpoint),
		links:   make(map[[2]core.NodeID]Link),
		blocked: make(map[[2]core.NodeID]bool),
		crashed: make(map[core.NodeID]bool),
	}
}

// Seed returns the seed the network was created with, for failure messages.
func (n *Network) Seed() int64 { return n.seed }

// Clock returns the network's clock.
func (n *Network) Clock() *Clock { return n.clock }

// Attach adds an endpoint for p (its ID must be set and unused; its Addr, if
// valid, must be unused too) and returns it.
func (n *Network) Attach(p core.Peer) (*Endpoint, error) {
	if p.ID.IsZero() {
		return nil, fmt.Errorf("sim: attach: zero node id: %w", core.ErrInvalidInput)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, dup := n.byID[p.ID]; dup {
		return nil, fmt.Errorf("sim: attach %s: node id in use: %w", p.ID.Short(), core.ErrInvalidInput)
	}
	if _, dup := n.byAddr[p.Addr]; dup && p.Addr.IsValid() {
		return nil, fmt.Errorf("sim: attach %s: address %s in use: %w", p.ID.Short(), p.Addr, core.ErrInvalidInput)
	}
	e := &Endpoint{net: n, peer: p}
	n.byID[p.ID] = e
	if p.Addr.IsValid() {
		n.byAddr[p.Addr] = e
	}
	return e, nil
}

// SetDefaultLink sets the faults of every link without its own SetLink.
func (n *Network) SetDefaultLink(l Link) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.def = l
}

// SetLink sets the faults of the directed link from one node to another.
func (n *Network) SetLink(from, to core.NodeID, l Link) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.links[[2]core.NodeID{from, to}] = l
}

// Block drops everything from one node to another (a one-way partition).
func (n *Network) Block(from, to core.NodeID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.blocked[[2]core.NodeID{from, to}] = true
}

// Partition cuts every link between a member of a and a member of b, both ways.
func (n *Network) Partition(a, b []core.NodeID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, x := range a {
		for _, y := range b {
			n.blocked[[2]core.NodeID{x, y}] = true
			n.blocked[[2]core.NodeID{y, x}] = true
		}
	}
}

// Heal removes every partition made with Block or Partition.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.blocked)
}

// Crash cuts the node off: nothing it sends arrives and nothing reaches it,
// including datagrams already in flight, until Restore. Its timers keep
// running, as a hung or isolated process's would.
func (n *Network) Crash(id core.NodeID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.crashed[id] = true
}

// Restore undoes Crash.
func (n *Network) Restore(id core.NodeID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.crashed, id)
}

// InFlight returns the number of datagrams sent but not yet delivered or dropped.
func (n *Network) InFlight() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.inflight
}

// Stats returns the counters of the endpoint with this ID.
func (n *Network) Stats(id core.NodeID) Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	if e := n.byID[id]; e != nil {
		return e.stats
	}
	return Stats{}
}

// Total returns the sum of every endpoint's counters (MaxDatagram is the maximum).
func (n *Network) Total() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	var s Stats
	for _, e := range n.byID {
		s.add(e.stats)
	}
	return s
}

// lookupLocked finds the endpoint a Peer names: by ID, else by address.
func (n *Network) lookupLocked(p core.Peer) *Endpoint {
	if !p.ID.IsZero() {
		return n.byID[p.ID]
	}
	return n.byAddr[p.Addr]
}

// reachableLocked reports whether a message from one node can reach another now.
func (n *Network) reachableLocked(from, to *Endpoint) bool {
	return to != nil && !to.detached && !from.detached &&
		!n.crashed[from.peer.ID] && !n.crashed[to.peer.ID] &&
		!n.blocked[[2]core.NodeID{from.peer.ID, to.peer.ID}]
}

func (n *Network) linkLocked(from, to core.NodeID) Link {
	if l, ok := n.links[[2]core.NodeID{from, to}]; ok {
		return l
	}
	return n.def
}

// sendDatagram decides the fate of one datagram and schedules its delivery.
func (n *Network) sendDatagram(from *Endpoint, to core.Peer, payload []byte) {
	n.mu.Lock()
	from.stats.DatagramsSent++
	from.stats.DatagramBytesSent += int64(len(payload))
	from.stats.MaxDatagram = max(from.stats.MaxDatagram, len(payload))
	dst := n.lookupLocked(to)
	if !n.reachableLocked(from, dst) {
		n.mu.Unlock()
		return
	}
	l := n.linkLocked(from.peer.ID, dst.peer.ID)
	if l.Loss > 0 && n.rng.Float64() < l.Loss {
		n.mu.Unlock()
		return
	}
	d := l.Latency
	if l.Jitter > 0 {
		d += time.Duration(n.rng.Int64N(int64(l.Jitter)))
	}
	n.inflight++
	n.mu.Unlock()

	msg := append([]byte(nil), payload...)
	n.clock.AfterFunc(d, func() { n.deliver(from, dst, msg) })
}

// deliver hands a datagram to its destination's handler, unless the path was
// cut while it was in flight.
func (n *Network) deliver(from, to *Endpoint, payload []byte) {
	n.mu.Lock()
	n.inflight--
	h := to.handler
	if !n.reachableLocked(from, to) || h == nil {
		n.mu.Unlock()
		return
	}
	to.stats.DatagramsReceived++
	n.mu.Unlock()
	h.HandleDatagram(from.peer, payload)
}

// request carries a request to its destination's handler and returns the reply.
func (n *Network) request(ctx context.Context, from *Endpoint, to core.Peer, payload []byte) ([]byte, error) {
	n.mu.Lock()
	from.stats.Requests++
	from.stats.RequestBytes += int64(len(payload))
	dst := n.lookupLocked(to)
	var h core.MessageHandler
	ok := n.reachableLocked(from, dst)
	if ok {
		h = dst.handler
		ok = h != nil && n.reachableLocked(dst, from)
	}
	if !ok {
		from.stats.RequestsFailed++
		n.mu.Unlock()
		return nil, fmt.Errorf("sim: request from %s to %s %s: %w", from.peer.ID.Short(), to.ID.Short(), to.Addr, ErrUnreachable)
	}
	n.mu.Unlock()
	if err := ctx.Err(); err != nil {
		n.countFailure(from)
		return nil, err
	}

	reply, err := h.HandleRequest(ctx, from.peer, append([]byte(nil), payload...))
	if err != nil {
		n.countFailure(from)
		return nil, fmt.Errorf("sim: request to %s: %w", dst.peer.ID.Short(), err)
	}
	n.mu.Lock()
	from.stats.ReplyBytes += int64(len(reply))
	n.mu.Unlock()
	return append([]byte(nil), reply...), nil
}

func (n *Network) countFailure(e *Endpoint) {
	n.mu.Lock()
	e.stats.RequestsFailed++
	n.mu.Unlock()
}
