package membership_test

import (
	"slices"

	"github.com/snowmerak/clustering/core"
	"github.com/zeebo/xxh3"
)

// seedPlacement re-implements the seed prototype's scheme as a baseline: the
// 64-bit hash range split into contiguous ranges proportional to weight over
// the member list sorted by Region > Zone > Rack > ID. One join shifts every
// range boundary after it.
type seedPlacement struct {
	bounds []uint64 // upper bound (inclusive) of each member's range
	ids    []core.NodeID
}

func newSeedPlacement(ms []core.Member) *seedPlacement {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b core.Member) int {
		return slices.Compare([]string{a.Region, a.Zone, a.Rack, string(a.ID[:])}, []string{b.Region, b.Zone, b.Rack, string(b.ID[:])})
	})
	var total float64
	for _, m := range ms {
		total += float64(max(m.Weight, 1))
	}
	s := &seedPlacement{}
	var acc float64
	for i, m := range ms {
		acc += float64(max(m.Weight, 1))
		b := uint64(acc / total * (1 << 63) * 2)
		if i == len(ms)-1 || acc >= total {
			b = ^uint64(0)
		}
		s.bounds = append(s.bounds, b)
		s.ids = append(s.ids, m.ID)
	}
	return s
}

func (s *seedPlacement) Owner(key []byte) core.NodeID {
	h := xxh3.Hash(key)
	i, _ := slices.BinarySearch(s.bounds, h)
	return s.ids[min(i, len(s.ids)-1)]
}

// seedMovement returns the keys of the first keys test keys that change
// owner under the seed's scheme when member n joins ms[:n], and when member 0
// leaves it, each over its ideal share (1/(n+1), 1/n).
func seedMovement(ms []core.Member, n, keys int) (join, leave float64) {
	base, joined, left := newSeedPlacement(ms[:n]), newSeedPlacement(ms), newSeedPlacement(ms[1:n])
	var buf []byte
	var movedJoin, movedLeave int
	for i := range keys {
		buf = key(buf, i)
		o := base.Owner(buf)
		if joined.Owner(buf) != o {
			movedJoin++
		}
		if left.Owner(buf) != o {
			movedLeave++
		}
	}
	return float64(movedJoin) / (float64(keys) / float64(n+1)), float64(movedLeave) / (float64(keys) / float64(n))
}
