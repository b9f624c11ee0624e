package membership

import (
	"cmp"
	"slices"

	"github.com/snowmerak/clustering/core"
)

// snapshot is one immutable view of the membership at a revision.
type snapshot struct {
	rev     int64
	members []core.Member // sorted by Region > Zone > Rack > ID
	byID    map[core.NodeID]int
	place   *Placement // nil until built
}

func compareTopology(a, b core.Member) int {
	return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Zone, b.Zone),
		cmp.Compare(a.Rack, b.Rack), slices.Compare(a.ID[:], b.ID[:]))
}

func newSnapshot(rev int64, byID map[core.NodeID]core.Member) *snapshot {
	s := &snapshot{rev: rev, members: make([]core.Member, 0, len(byID)), byID: make(map[core.NodeID]int, len(byID))}
	for _, m := range byID {
		s.members = append(s.members, m)
	}
	slices.SortFunc(s.members, compareTopology)
	for i, m := range s.members {
		s.byID[m.ID] = i
	}
	return s
}

// span returns the members whose topology prefix matches (region, zone,
// rack), given how many of the three to compare.
func (s *snapshot) span(depth int, region, zone, rack string) []core.Member {
	key := func(m core.Member) int {
		c := cmp.Compare(m.Region, region)
		if c != 0 || depth == 1 {
			return c
		}
		if c = cmp.Compare(m.Zone, zone); c != 0 || depth == 2 {
			return c
		}
		return cmp.Compare(m.Rack, rack)
	}
	lo, _ := slices.BinarySearchFunc(s.members, 0, func(m core.Member, _ int) int {
		if key(m) < 0 {
			return -1
		}
		return 1
	})
	hi, _ := slices.BinarySearchFunc(s.members, 0, func(m core.Member, _ int) int {
		if key(m) <= 0 {
			return -1
		}
		return 1
	})
	return clones(s.members[lo:hi])
}

func clones(ms []core.Member) []core.Member {
	out := make([]core.Member, len(ms))
	for i, m := range ms {
		out[i] = m.Clone()
	}
	return out
}
