package transport

import (
	"net/netip"
	"sync"
	"time"
)

// rateLimiter is a token bucket per source: an IPv4 address, or an IPv6 /64
// (one host usually holds a whole /64, so per-address limits would be
// trivially evaded). The table is bounded: when it is full, idle buckets are
// dropped, and if none is idle the new source is refused, which the caller
// treats as load.
type rateLimiter struct {
	rate  float64 // tokens per second
	burst float64
	max   int

	mu      sync.Mutex
	buckets map[netip.Addr]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(perSecond, burst float64, max int) *rateLimiter {
	return &rateLimiter{rate: perSecond, burst: burst, max: max, buckets: make(map[netip.Addr]*tokenBucket)}
}

// sourceKey maps an address to the key its bucket is kept under.
func sourceKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// allow takes one token for ip and reports whether there was one.
func (r *rateLimiter) allow(now time.Time, ip netip.Addr) bool {
	key := sourceKey(ip)
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buckets[key]
	if b == nil {
		if len(r.buckets) >= r.max && !r.sweep(now) {
			return false
		}
		b = &tokenBucket{tokens: r.burst, last: now}
		r.buckets[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(r.burst, b.tokens+dt*r.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep drops the buckets that have refilled completely (their sources have
// been quiet long enough to be forgotten) and reports whether any went.
func (r *rateLimiter) sweep(now time.Time) bool {
	full := time.Duration(r.burst / r.rate * float64(time.Second))
	n := len(r.buckets)
	for k, b := range r.buckets {
		if now.Sub(b.last) >= full {
			delete(r.buckets, k)
		}
	}
	return len(r.buckets) < n
}

// size is the number of sources tracked.
func (r *rateLimiter) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buckets)
}

// nonceCache remembers the nonces of M1s that reached the expensive part of
// the handshake, so a replayed M1 is refused. It is bounded; the oldest
// entry goes first when it is full.
type nonceCache struct {
	ttl time.Duration
	max int

	mu    sync.Mutex
	seen  map[[nonceSize]byte]time.Time
	order [][nonceSize]byte // insertion order, oldest first
}

func newNonceCache(ttl time.Duration, max int) *nonceCache {
	return &nonceCache{ttl: ttl, max: max, seen: make(map[[nonceSize]byte]time.Time)}
}

// contains reports whether nonce is there and unexpired, changing nothing.
func (c *nonceCache) contains(now time.Time, nonce [nonceSize]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.seen[nonce]
	return ok && now.Before(exp)
}

// add records nonce and reports false if it was already there and unexpired.
func (c *nonceCache) add(now time.Time, nonce [nonceSize]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[nonce]; ok && now.Before(exp) {
		return false
	}
	for len(c.order) > 0 && (len(c.seen) >= c.max || !now.Before(c.seen[c.order[0]])) {
		delete(c.seen, c.order[0])
		c.order = c.order[1:]
	}
	c.seen[nonce] = now.Add(c.ttl)
	c.order = append(c.order, nonce)
	return true
}

// remove forgets nonce (its M1 was dropped before any work was done).
func (c *nonceCache) remove(nonce [nonceSize]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, nonce)
}
