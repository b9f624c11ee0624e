package fakenet

import (
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Faults describes what happens to packets on a directed link. The zero value
// is a perfect link.
type Faults struct {
	// Loss is the probability in [0, 1] that a packet is dropped.
	Loss float64
	// Duplicate is the probability that a packet is delivered twice.
	Duplicate float64
	// Reorder is the probability that a packet is held back by an extra delay
	// of up to ReorderDelay (default 5 ms), so later packets overtake it.
	Reorder float64
	// ReorderDelay bounds the extra delay of a reordered packet.
	ReorderDelay time.Duration
	// Delay is the one-way latency; Jitter adds a uniform random [0, Jitter).
	Delay, Jitter time.Duration
	// Bandwidth limits the link to this many bytes per second (0: unlimited).
	// Packets queue behind each other; a packet that would wait more than
	// MaxQueue (default 200 ms) is dropped, as a router's tail drop would.
	Bandwidth int
	// MaxQueue bounds the queueing delay under Bandwidth.
	MaxQueue time.Duration
	// MTU drops packets larger than this many bytes (0: no limit).
	MTU int
}

// rule applies Faults to the links whose endpoints match the two patterns.
type rule struct {
	from, to string
	faults   Faults
}

// matchEndpoint reports whether addr matches a pattern: "*" (anything), a bare
// IP (any port) or an exact "ip:port".
func matchEndpoint(pattern string, addr netip.AddrPort) bool {
	if pattern == "*" || pattern == "" {
		return true
	}
	if ap, err := netip.ParseAddrPort(pattern); err == nil {
		return ap == addr
	}
	ip, err := netip.ParseAddr(pattern)
	return err == nil && ip == addr.Addr()
}

// link is the state of one directed link: its random source and the time its
// bandwidth-limited queue drains.
type link struct {
	rng      *rand.Rand
	busyTill time.Time
}

func newLink(seed int64, from, to netip.AddrPort) *link {
	h := fnv.New64a()
	h.Write([]byte(from.String()))
	h.Write([]byte{0})
	h.Write([]byte(to.String()))
	return &link{rng: rand.New(rand.NewPCG(uint64(seed), h.Sum64()))}
}

// plan decides the fate of one packet of size n sent at now: the delays at
// which copies are delivered (none when it is lost).
func (l *link) plan(f Faults, n int, now time.Time) []time.Duration {
	if f.MTU > 0 && n > f.MTU {
		return nil
	}
	if f.Loss > 0 && l.rng.Float64() < f.Loss {
		return nil
	}
	base := f.Delay
	if f.Bandwidth > 0 {
		start := now
		if l.busyTill.After(start) {
			start = l.busyTill
		}
		maxQueue := f.MaxQueue
		if maxQueue == 0 {
			maxQueue = 200 * time.Millisecond
		}
		if start.Sub(now) > maxQueue {
			return nil
		}
		l.busyTill = start.Add(time.Duration(float64(n) / float64(f.Bandwidth) * float64(time.Second)))
		base += l.busyTill.Sub(now)
	}
	copies := 1
	if f.Duplicate > 0 && l.rng.Float64() < f.Duplicate {
		copies = 2
	}
	delays := make([]time.Duration, copies)
	for i := range delays {
		d := base
		if f.Jitter > 0 {
			d += time.Duration(l.rng.Int64N(int64(f.Jitter)))
		}
		if f.Reorder > 0 && l.rng.Float64() < f.Reorder {
			rd := f.ReorderDelay
			if rd <= 0 {
				rd = 5 * time.Millisecond
			}
			d += time.Duration(l.rng.Int64N(int64(rd))) + 1
		}
		delays[i] = d
	}
	return delays
}
