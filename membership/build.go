package membership

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// noMember pads replica candidate lists shorter than their width.
const noMember = math.MaxUint16

// blockBits is log2 of the partitions one race block covers.
const blockBits = 12

// splitmix64 advances *s and returns the next value of the SplitMix64
// generator: a fixed, portable stream, so every node derives the same
// numbers from the same seeds.
func splitmix64(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	return mix64(*s)
}

// mix64 is the SplitMix64 finaliser, a bijective 64-bit mixer.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unit maps x to a uniform float in (0, 1).
func unit(x uint64) float64 { return (float64(x>>11) + 0.5) / (1 << 53) }

// parallel runs fn(i) for i in [0, n) on GOMAXPROCS goroutines.
func parallel(n int, fn func(worker, i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(w, i)
			}
		}()
	}
	wg.Wait()
}

// buildPrimary fills the primary table with each partition's weighted
// rendezvous winner, computed as an exponential race instead of P×N scores.
//
// Weighted HRW gives partition p to the member with the smallest
// -ln(u_{p,m})/w_m, an Exp(w_m) variable. The same winner distribution comes
// from a race: time runs in unit segments; in each segment a member of weight
// w drops w arrivals on the B partitions of a block, each at a uniform
// partition and a uniform time within the segment; a partition goes to its
// earliest arrival. A member's first arrival at a partition is then
// (to O(1/B)) exponential with rate proportional to w, independent across
// partitions and members. Each member's stream is SplitMix64 seeded from
// xxh3 of its ID and the block, so the table is a pure function of the
// member set with HRW's minimal disruption: a joining member takes exactly
// the partitions where it arrives first; a leaving one frees only its own.
// Segments run until every partition of the block has an arrival; later
// segments are later in time, so the result is exact. Times are integers:
// the table is the same on every platform. Cost: about B·(ln B + 1)
// arrivals per block (one SplitMix64 step each) plus N stream starts.
func buildPrimary(seeds []uint64, weights []int, pbits uint) []uint16 {
	bb := min(uint(blockBits), pbits)
	size := 1 << bb
	out := make([]uint16, 1<<pbits)
	workers := runtime.GOMAXPROCS(0)
	bests := make([][]uint64, workers)
	rngs := make([][]uint64, workers)
	parallel(1<<(pbits-bb), func(w, b int) {
		if bests[w] == nil {
			bests[w], rngs[w] = make([]uint64, size), make([]uint64, len(seeds))
		}
		best, rng, owner := bests[w], rngs[w], out[b*size:][:size]
		for i := range best {
			best[i] = math.MaxUint64
		}
		for m := range rng {
			rng[m] = seeds[m] ^ mix64(uint64(b)<<8|uint64(pbits))
		}
		uncovered := size
		for seg := uint64(0); uncovered > 0; seg++ {
			for m := range rng {
				for range weights[m] {
					x := splitmix64(&rng[m])
					pos := (x >> 1) >> (63 - bb) // bb may be 0
					t := seg<<timeBits | x&(1<<timeBits-1)
					if t < best[pos] {
						if best[pos] == math.MaxUint64 {
							uncovered--
						}
						best[pos], owner[pos] = t, uint16(m)
					}
				}
			}
		}
	})
	return out
}

// timeBits is the resolution of an arrival's time within its segment; the
// partition comes from the top bits of the same draw (blockBits ≤ 24).
const timeBits = 40

// scored is a member index with its HRW rank value (smaller is better).
type scored struct {
	v float64
	m uint16
}

func better(a, b scored) bool { return a.v < b.v || (a.v == b.v && a.m < b.m) }

// buildReplicaCandidates computes, for each replica group, a short list of
// HRW candidates in rank order holding the best member of each of the first
// R+1 zones, of the first 2R+1 racks and the first 2R+1 members: enough for
// Owners to pick R-1 replicas beside any primary with the most topology
// spread the cluster allows.
func (p *Placement) buildReplicaCandidates(seeds []uint64, weights []int, zones, racks int) {
	r := p.replicas
	// With equal weights the HRW order is the order of u: skip the logarithm.
	uniform := !slices.ContainsFunc(weights, func(w int) bool { return w != weights[0] })
	n := len(seeds)
	p.width = min(n, (r+1)+2*(2*r+1))
	groups := 1 << (64 - p.rshift)
	p.cands = make([]uint16, groups*p.width)
	type scratch struct {
		zoneBest, rackBest []scored
		top, list          []scored
	}
	workers := runtime.GOMAXPROCS(0)
	scr := make([]*scratch, workers)
	none := scored{v: math.Inf(1), m: noMember}
	parallel(groups, func(w, g int) {
		s := scr[w]
		if s == nil {
			s = &scratch{zoneBest: make([]scored, zones), rackBest: make([]scored, racks)}
			scr[w] = s
		}
		for i := range s.zoneBest {
			s.zoneBest[i] = none
		}
		for i := range s.rackBest {
			s.rackBest[i] = none
		}
		s.top = s.top[:0]
		salt := mix64(uint64(g) ^ 0x5265706c69636173) // "Replicas"
		for m := range n {
			u := unit(mix64(seeds[m] ^ salt))
			c := scored{v: -u, m: uint16(m)}
			if !uniform {
				c.v = -math.Log(u) / float64(weights[m])
			}
			if z := &s.zoneBest[p.zone[m]]; better(c, *z) {
				*z = c
			}
			if k := &s.rackBest[p.rack[m]]; better(c, *k) {
				*k = c
			}
			s.top = insertTop(s.top, c, 2*r+1)
		}
		s.list = append(s.list[:0], s.top...)
		s.list = append(s.list, firstBest(s.zoneBest, r+1)...)
		s.list = append(s.list, firstBest(s.rackBest, 2*r+1)...)
		slices.SortFunc(s.list, func(a, b scored) int {
			if better(a, b) {
				return -1
			}
			if better(b, a) {
				return 1
			}
			return 0
		})
		s.list = slices.Compact(s.list)
		row := p.cands[g*p.width:][:p.width]
		for i := range row {
			row[i] = noMember
			if i < len(s.list) {
				row[i] = s.list[i].m
			}
		}
	})
}

// insertTop keeps top sorted and at most k long.
func insertTop(top []scored, c scored, k int) []scored {
	if len(top) == k && !better(c, top[k-1]) {
		return top
	}
	i, _ := slices.BinarySearchFunc(top, c, func(a, b scored) int {
		if better(a, b) {
			return -1
		}
		return 1
	})
	if len(top) < k {
		top = append(top, scored{})
	}
	copy(top[i+1:], top[i:])
	top[i] = c
	return top
}

// firstBest sorts best in rank order in place and returns its first k
// entries that hold a member.
func firstBest(best []scored, k int) []scored {
	slices.SortFunc(best, func(a, b scored) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	n := 0
	for n < len(best) && n < k && best[n].m != noMember {
		n++
	}
	return best[:n]
}
