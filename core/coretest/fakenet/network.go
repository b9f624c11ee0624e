package fakenet

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Packet is a datagram on the wire, as the adversary hook sees it.
type Packet struct {
	From, To netip.AddrPort
	// Payload is the hook's own copy; changes to it are delivered.
	Payload []byte
}

// Verdict is a hook's decision about a packet.
type Verdict int

const (
	// Deliver passes the (possibly modified) packet on to the link's faults.
	Deliver Verdict = iota
	// Drop discards the packet.
	Drop
)

// Hook sees every packet sent on the network before link faults apply. It runs
// on the sender's goroutine and must not call back into the Network's
// configuration methods; Inject is safe to call from it.
type Hook func(p *Packet) Verdict

// Stats counts the packets and bytes an address sent and received.
type Stats struct {
	PacketsSent, PacketsReceived int64
	BytesSent, BytesReceived     int64
}

// Network is an in-memory datagram network. Create it with New; it is safe for
// concurrent use.
type Network struct {
	seed int64

	mu       sync.Mutex
	conns    map[netip.AddrPort]*Conn
	rules    []rule
	links    map[[2]netip.AddrPort]*link
	blocked  map[[2]netip.AddrPort]bool
	crashed  map[netip.Addr]bool
	hook     Hook
	stats    map[netip.AddrPort]*Stats
	inflight sync.WaitGroup
}

// New returns an empty network whose fault decisions derive from seed.
func New(seed int64) *Network {
	return &Network{
		seed:    seed,
		conns:   make(map[netip.AddrPort]*Conn),
		links:   make(map[[2]netip.AddrPort]*link),
		blocked: make(map[[2]netip.AddrPort]bool),
		crashed: make(map[netip.Addr]bool),
		stats:   make(map[netip.AddrPort]*Stats),
	}
}

// Seed returns the seed the network was created with.
func (n *Network) Seed() int64 { return n.seed }

// Listen opens an endpoint at addr ("10.0.0.1:9000"). The address must be free.
func (n *Network) Listen(addr string) (*Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("fakenet: listen %q: %v: %w", addr, err, core.ErrInvalidInput)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, busy := n.conns[ap]; busy {
		return nil, fmt.Errorf("fakenet: listen %s: address in use", ap)
	}
	c := &Conn{
		net:           n,
		addr:          ap,
		inbox:         make(chan datagram, inboxSize),
		closed:        make(chan struct{}),
		readDeadline:  newDeadline(),
		writeDeadline: newDeadline(),
	}
	n.conns[ap] = c
	return c, nil
}

// SetFaults applies f to every directed link from an endpoint matching from to
// one matching to. A pattern is "*" (any), a bare IP (any port) or "ip:port".
// Later calls take precedence over earlier ones where patterns overlap.
func (n *Network) SetFaults(from, to string, f Faults) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.rules = append(n.rules, rule{from: from, to: to, faults: f})
}

// ClearFaults makes every link perfect again.
func (n *Network) ClearFaults() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.rules = nil
}

// Block drops every packet from one endpoint to another (a one-way partition).
func (n *Network) Block(from, to string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.blocked[[2]netip.AddrPort{netip.MustParseAddrPort(from), netip.MustParseAddrPort(to)}] = true
}

// Partition cuts every link between a member of a and a member of b, both ways.
func (n *Network) Partition(a, b []string) {
	for _, x := range a {
		for _, y := range b {
			n.Block(x, y)
			n.Block(y, x)
		}
	}
}

// Heal removes every partition made with Block or Partition.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.blocked)
}

// Crash makes the host at ip (any port) stop answering: every packet to or
// from it is dropped until Restore. Its endpoints stay open, like a hung process.
func (n *Network) Crash(ip string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.crashed[netip.MustParseAddr(ip)] = true
}

// Restore undoes Crash.
func (n *Network) Restore(ip string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.crashed, netip.MustParseAddr(ip))
}

// SetHook installs the adversary hook (nil removes it).
func (n *Network) SetHook(h Hook) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.hook = h
}

// Inject puts a packet on the wire as if from sent it, bypassing the hook but
// not the link's faults. The source need not be a listening endpoint.
func (n *Network) Inject(from, to netip.AddrPort, payload []byte) {
	n.send(from, to, append([]byte(nil), payload...), false)
}

// Stats returns the traffic counters of addr (including injected traffic
// claimed to be from it).
func (n *Network) Stats(addr netip.AddrPort) Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s := n.stats[addr]; s != nil {
		return *s
	}
	return Stats{}
}

// Wait blocks until every delayed packet in flight has been delivered or dropped.
func (n *Network) Wait() { n.inflight.Wait() }

func (n *Network) statsLocked(a netip.AddrPort) *Stats {
	s := n.stats[a]
	if s == nil {
		s = &Stats{}
		n.stats[a] = s
	}
	return s
}

// send carries payload (owned by the network) from one address to another.
func (n *Network) send(from, to netip.AddrPort, payload []byte, hooked bool) {
	n.mu.Lock()
	hook := n.hook
	n.mu.Unlock()
	if hooked && hook != nil {
		p := &Packet{From: from, To: to, Payload: payload}
		if hook(p) == Drop {
			return
		}
		from, to, payload = p.From, p.To, p.Payload
	}

	n.mu.Lock()
	st := n.statsLocked(from)
	st.PacketsSent++
	st.BytesSent += int64(len(payload))
	if n.blocked[[2]netip.AddrPort{from, to}] || n.crashed[from.Addr()] || n.crashed[to.Addr()] {
		n.mu.Unlock()
		return
	}
	var f Faults
	for i := len(n.rules) - 1; i >= 0; i-- {
		if r := n.rules[i]; matchEndpoint(r.from, from) && matchEndpoint(r.to, to) {
			f = r.faults
			break
		}
	}
	key := [2]netip.AddrPort{from, to}
	l := n.links[key]
	if l == nil {
		l = newLink(n.seed, from, to)
		n.links[key] = l
	}
	delays := l.plan(f, len(payload), time.Now())
	n.mu.Unlock()

	for i, d := range delays {
		p := payload
		if i > 0 {
			p = append([]byte(nil), payload...)
		}
		if d <= 0 {
			n.deliver(from, to, p)
			continue
		}
		n.inflight.Add(1)
		time.AfterFunc(d, func() {
			defer n.inflight.Done()
			n.deliver(from, to, p)
		})
	}
}

// deliver hands a datagram to the endpoint listening at to, if any. A full
// inbox drops it, as a full socket buffer would.
func (n *Network) deliver(from, to netip.AddrPort, payload []byte) {
	n.mu.Lock()
	c := n.conns[to]
	if c == nil || n.crashed[to.Addr()] {
		n.mu.Unlock()
		return
	}
	st := n.statsLocked(to)
	st.PacketsReceived++
	st.BytesReceived += int64(len(payload))
	n.mu.Unlock()
	select {
	case c.inbox <- datagram{from: from, payload: payload}:
	case <-c.closed:
	default:
	}
}

// rebind moves c from its address to next.
func (n *Network) rebind(c *Conn, next netip.AddrPort) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, busy := n.conns[next]; busy {
		return fmt.Errorf("fakenet: rebind to %s: address in use", next)
	}
	if n.conns[c.addr] == c {
		delete(n.conns, c.addr)
	}
	n.conns[next] = c
	c.addr = next
	return nil
}

func (n *Network) remove(c *Conn) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conns[c.addr] == c {
		delete(n.conns, c.addr)
	}
}

// udpAddr converts an AddrPort to the *net.UDPAddr callers of a UDP socket expect.
func udpAddr(ap netip.AddrPort) *net.UDPAddr { return net.UDPAddrFromAddrPort(ap) }
