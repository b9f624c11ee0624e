package membership

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/snowmerak/clustering/core"
	"github.com/zeebo/xxh3"
)

// Placement limits and defaults.
const (
	// DefaultReplicas is how many owners a placement lists per key.
	DefaultReplicas = 3
	// MaxReplicas bounds Replicas and the n of Owners.
	MaxReplicas = 16
	// MaxPlacementMembers is the most members a placement indexes (uint16).
	MaxPlacementMembers = 1<<16 - 1
	// minPartitionBits and maxPartitionBits bound the automatic table size:
	// 2^16 partitions at least, 2^24 (32 MiB of uint16) at most.
	minPartitionBits = 16
	maxPartitionBits = 24
	// partitionsPerMember sets the automatic table size: about 16384
	// partitions a member keeps the table's own imbalance near 1/√16384 ≈ 0.8%
	// (one standard deviation), small beside the noise of 10^4 keys a weight
	// unit (1%), so max/expected load stays under 1.05 up to N ≈ 1000.
	partitionsPerMember = 1 << 14
	// replicaBits is the size of the replica table (2^16 groups of partitions).
	replicaBits = 16
)

// PlacementConfig tunes NewPlacement.
type PlacementConfig struct {
	// Replicas is the number of owners kept per key (DefaultReplicas when 0).
	Replicas int
	// Partitions is the primary table size, a power of two (0: chosen from N,
	// see partitionsPerMember).
	//
	// The automatic size keeps load within 5% of each member's weighted
	// share, which random (HRW) assignment only achieves with thousands of
	// partitions per member: 2 bytes each, so 32 MiB at N = 1000. Such a
	// table does not fit in cache, and a lookup of an uncached key then
	// costs a memory access (BenchmarkOwner/OwnerRandomKeys: about 120 ns at
	// N = 100 and 220 ns at N = 1000 here, against 40 ns for a 2^18 table).
	// Choose a smaller table when lookup latency matters more than balance:
	// the load spread grows as about 1/sqrt(Partitions/N).
	Partitions int
}

// Placement is an immutable, precomputed map from keys to their owners for
// one membership. Lookups hash the key once with xxh3 and index tables: they
// take constant time and do not allocate. Safe for concurrent use.
//
// The primary table holds each partition's weighted rendezvous (HRW) winner;
// Owner(key) is that winner. Owners adds replicas from a second table of
// 2^16 partition groups whose HRW candidate lists are chosen for topology
// spread (distinct zones, then racks, then members).
type Placement struct {
	n        int           // members placed
	ids      []core.NodeID // member index → ID; the empty placement has one zero ID
	zone     []uint32      // member index → zone class (Region, Zone)
	rack     []uint32      // member index → rack class (Region, Zone, Rack)
	shift    uint          // 64 - log2(partitions)
	primary  []uint16
	rshift   uint // 64 - log2(replica groups)
	cands    []uint16
	width    int // candidates per replica group (cands has width per group)
	replicas int
}

// NewPlacement builds the placement of members (any order: the result
// depends only on the set). Weights ≤ 0 count as 1; only their ratios
// matter. Build time grows with the number of partitions and, once the sum
// of weights divided by their GCD passes about 40000, with that sum too:
// keep weights small integers.
func NewPlacement(members []core.Member, cfg PlacementConfig) (*Placement, error) {
	if len(members) > MaxPlacementMembers {
		return nil, fmt.Errorf("placement: %d members, at most %d: %w", len(members), MaxPlacementMembers, core.ErrInvalidInput)
	}
	r := cfg.Replicas
	if r == 0 {
		r = DefaultReplicas
	}
	if r < 1 || r > MaxReplicas {
		return nil, fmt.Errorf("placement: %d replicas, want 1..%d: %w", r, MaxReplicas, core.ErrInvalidInput)
	}
	pbits, err := partitionBits(cfg.Partitions, len(members))
	if err != nil {
		return nil, err
	}
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b core.Member) int { return slices.Compare(a.ID[:], b.ID[:]) })
	for i := 1; i < len(ms); i++ {
		if ms[i].ID == ms[i-1].ID {
			return nil, fmt.Errorf("placement: member %s listed twice: %w", ms[i].ID.Short(), core.ErrInvalidInput)
		}
	}
	p := &Placement{
		n:        len(ms),
		ids:      make([]core.NodeID, len(ms)),
		zone:     make([]uint32, len(ms)),
		rack:     make([]uint32, len(ms)),
		shift:    64 - pbits,
		rshift:   64 - min(replicaBits, pbits),
		replicas: r,
	}
	if len(ms) == 0 {
		// One partition owned by the zero ID keeps Owner free of a branch
		// (a shift by 64 yields 0), so it stays small enough to inline.
		p.ids, p.primary, p.shift = make([]core.NodeID, 1), make([]uint16, 1), 64
		return p, nil
	}
	zones, racks := map[[2]string]uint32{}, map[[3]string]uint32{}
	seeds := make([]uint64, len(ms))
	weights := make([]int, len(ms))
	for i, m := range ms {
		p.ids[i] = m.ID
		seeds[i] = xxh3.Hash(m.ID[:])
		weights[i] = max(m.Weight, 1)
		p.zone[i] = classOf(zones, [2]string{m.Region, m.Zone})
		p.rack[i] = classOf(racks, [3]string{m.Region, m.Zone, m.Rack})
	}
	// Only weight ratios matter: dividing by the GCD gives the same placement
	// for {100, 200} as for {1, 2}, and a race with fewer arrivals.
	g := weights[0]
	for _, w := range weights[1:] {
		g = gcd(g, w)
	}
	for i := range weights {
		weights[i] /= g
	}
	p.primary = buildPrimary(seeds, weights, pbits)
	p.buildReplicaCandidates(seeds, weights, len(zones), len(racks))
	return p, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func classOf[K comparable](classes map[K]uint32, k K) uint32 {
	c, ok := classes[k]
	if !ok {
		c = uint32(len(classes))
		classes[k] = c
	}
	return c
}

// partitionBits returns log2 of the primary table size.
func partitionBits(partitions, n int) (uint, error) {
	if partitions != 0 {
		if partitions < 1 || partitions&(partitions-1) != 0 || partitions > 1<<30 {
			return 0, fmt.Errorf("placement: %d partitions, want a power of two up to 2^30: %w", partitions, core.ErrInvalidInput)
		}
		return uint(bits.TrailingZeros(uint(partitions))), nil
	}
	b := uint(bits.Len(uint(max(n, 1)*partitionsPerMember - 1)))
	return min(max(b, minPartitionBits), maxPartitionBits), nil
}

// Partitions returns the size of the primary table.
func (p *Placement) Partitions() int { return 1 << (64 - p.shift) }

// Replicas returns the number of owners kept per key.
func (p *Placement) Replicas() int { return p.replicas }

// Len returns the number of members placed.
func (p *Placement) Len() int { return p.n }

// Partition returns the primary-table partition of key.
func (p *Placement) Partition(key []byte) int { return int(xxh3.Hash(key) >> p.shift) }

// PartitionOwner returns the owner of primary-table partition i (0 ≤ i <
// Partitions()), or the zero NodeID when the placement is empty.
func (p *Placement) PartitionOwner(i int) core.NodeID { return p.ids[p.primary[i]] }

// Owner returns the member that owns key, or the zero NodeID when the
// placement is empty. It is small enough for the compiler to inline.
func (p *Placement) Owner(key []byte) core.NodeID {
	return p.ids[p.primary[xxh3.Hash(key)>>p.shift]]
}

// Owners appends to dst up to n distinct owners of key, Owner(key) first,
// the others spread over distinct zones when at least n zones exist, else
// over as many zones and then racks as there are. n is capped at Replicas
// and at the number of members.
func (p *Placement) Owners(key []byte, n int, dst []core.NodeID) []core.NodeID {
	n = min(n, p.replicas, p.n)
	if n <= 0 {
		return dst
	}
	h := xxh3.Hash(key)
	first := p.primary[h>>p.shift]
	var chosen [MaxReplicas]uint16
	chosen[0] = first
	k := 1
	cands := p.cands[int(h>>p.rshift)*p.width:][:p.width]
	for pass := 0; pass < 3 && k < n; pass++ {
		for _, c := range cands {
			if k == n || c == noMember {
				break
			}
			if p.fits(c, chosen[:k], pass) {
				chosen[k] = c
				k++
			}
		}
	}
	for _, c := range chosen[:k] {
		dst = append(dst, p.ids[c])
	}
	return dst
}

// fits reports whether member c adds what pass asks for: a new zone (0), a
// new rack (1) or just a new member (2).
func (p *Placement) fits(c uint16, chosen []uint16, pass int) bool {
	for _, o := range chosen {
		switch {
		case o == c:
			return false
		case pass == 0 && p.zone[o] == p.zone[c]:
			return false
		case pass == 1 && p.rack[o] == p.rack[c]:
			return false
		}
	}
	return true
}
