package transport

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"
)

// indexEntry is what a local session index names: a handshake in progress
// or the keypair it produced. Exactly one field is set.
type indexEntry struct {
	init *initiatorState
	resp *responderState
	kp   *keypair
}

// indexTable maps the random 32-bit indices peers put in their packets to
// local state, as WireGuard's does: packets are routed by index, never by
// source address, which is what makes roaming possible.
type indexTable struct {
	rand io.Reader

	mu sync.RWMutex
	m  map[uint32]indexEntry
}

func newIndexTable(rand io.Reader) *indexTable {
	return &indexTable{rand: rand, m: make(map[uint32]indexEntry)}
}

// reserve allocates a fresh non-zero index for e.
func (t *indexTable) reserve(e indexEntry) (uint32, error) {
	var b [4]byte
	for range 64 {
		if _, err := io.ReadFull(t.rand, b[:]); err != nil {
			return 0, fmt.Errorf("session index: %w", err)
		}
		i := binary.BigEndian.Uint32(b[:])
		if i == 0 {
			continue
		}
		t.mu.Lock()
		if _, taken := t.m[i]; !taken {
			t.m[i] = e
			t.mu.Unlock()
			return i, nil
		}
		t.mu.Unlock()
	}
	return 0, fmt.Errorf("session index: no free index found")
}

func (t *indexTable) get(i uint32) (indexEntry, bool) {
	t.mu.RLock()
	e, ok := t.m[i]
	t.mu.RUnlock()
	return e, ok
}

func (t *indexTable) set(i uint32, e indexEntry) {
	t.mu.Lock()
	t.m[i] = e
	t.mu.Unlock()
}

// removeKeypair frees i if it still names kp.
func (t *indexTable) removeKeypair(i uint32, kp *keypair) {
	t.mu.Lock()
	if e, ok := t.m[i]; ok && e.kp == kp {
		delete(t.m, i)
	}
	t.mu.Unlock()
}

// removeHandshake frees i if it still names the handshake state.
func (t *indexTable) removeHandshake(i uint32, init *initiatorState, resp *responderState) {
	t.mu.Lock()
	if e, ok := t.m[i]; ok && e.kp == nil && e.init == init && e.resp == resp {
		delete(t.m, i)
	}
	t.mu.Unlock()
}

func (t *indexTable) len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}

// m1Key names a partial or in-progress M1: its source and initiator index.
type m1Key struct {
	addr  netip.AddrPort
	index uint32
}

// m1Pending reassembles M1s, which arrive from unauthenticated sources, with
// strict bounds: at most max partial messages (each at most maxM1Size
// bytes), at most perIP from one source (an IPv4 address or an IPv6 /64, as
// the rate limiter counts them), each for at most
// reassemblyTimeout. When a bound is hit the oldest partial goes.
type m1Pending struct {
	max, perIP int

	mu       sync.Mutex
	partial  map[m1Key]*reassembly
	bySource map[netip.Addr]int
	bytes    int
}

func newM1Pending(max, perIP int) *m1Pending {
	return &m1Pending{max: max, perIP: perIP, partial: make(map[m1Key]*reassembly), bySource: make(map[netip.Addr]int)}
}

// add stores an M1 fragment. It returns the complete message (a copy the
// caller owns) and the datagram bytes it took, and how many partials it evicted.
func (p *m1Pending) add(now time.Time, f fragment, from netip.AddrPort, datagramLen int) (msg []byte, bytesIn, evicted int) {
	if f.count == 1 {
		return append([]byte(nil), f.data...), datagramLen, 0
	}
	key := m1Key{from, f.index}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.partial[key]
	if r == nil {
		src := sourceKey(from.Addr())
		if p.bySource[src] >= p.perIP {
			evicted += p.evictOldest(func(k m1Key) bool { return sourceKey(k.addr.Addr()) == src })
		}
		if len(p.partial) >= p.max {
			evicted += p.evictOldest(func(m1Key) bool { return true })
		}
		r = newReassembly(f, now)
		p.partial[key] = r
		p.bySource[src]++
		p.bytes += r.size()
	}
	msg, err := r.add(f, datagramLen)
	if err != nil {
		p.drop(key, r)
		return nil, 0, evicted + 1
	}
	if msg != nil {
		p.drop(key, r)
		return msg, r.bytesIn, evicted
	}
	return nil, 0, evicted
}

func (p *m1Pending) drop(key m1Key, r *reassembly) {
	delete(p.partial, key)
	p.bytes -= r.size()
	src := sourceKey(key.addr.Addr())
	if p.bySource[src]--; p.bySource[src] <= 0 {
		delete(p.bySource, src)
	}
}

// evictOldest drops the oldest partial whose key matches and reports 1, or 0.
func (p *m1Pending) evictOldest(match func(m1Key) bool) int {
	var oldKey m1Key
	var old *reassembly
	for k, r := range p.partial {
		if match(k) && (old == nil || r.started.Before(old.started)) {
			oldKey, old = k, r
		}
	}
	if old == nil {
		return 0
	}
	p.drop(oldKey, old)
	return 1
}

// expire drops partials older than reassemblyTimeout and reports how many.
func (p *m1Pending) expire(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, r := range p.partial {
		if now.Sub(r.started) >= reassemblyTimeout {
			p.drop(k, r)
			n++
		}
	}
	return n
}

// memory reports the bytes held by partial messages and their number.
func (p *m1Pending) memory() (bytes, count int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes, len(p.partial)
}
