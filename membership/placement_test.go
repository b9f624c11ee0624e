package membership_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
	"github.com/stretchr/testify/require"
)

func mustPlace(t testing.TB, ms []core.Member, cfg membership.PlacementConfig) *membership.Placement {
	t.Helper()
	p, err := membership.NewPlacement(ms, cfg)
	require.NoError(t, err)
	return p
}

func TestOwnersSpreadOverTopology(t *testing.T) {
	tests := []struct {
		name                        string
		n, zones, racks             int
		wantZones, wantRacks, wantN int
	}{
		{"ThreeZonesGiveThreeZones", 12, 3, 2, 3, 3, 3},
		{"ManyZonesGiveDistinctZones", 40, 8, 2, 3, 3, 3},
		{"UnequalZonesStillDistinct", 30, 3, 1, 3, 3, 3},
		{"TwoZonesThenDistinctRacks", 16, 2, 4, 2, 3, 3},
		{"OneZoneDistinctRacks", 9, 1, 3, 1, 3, 3},
		{"OneRackDistinctMembers", 5, 1, 1, 1, 1, 3},
		{"FewerMembersThanReplicas", 2, 2, 1, 2, 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms := fakeMembers(tc.n, tc.zones, tc.racks, func(i int) int { return 1 + i%3 })
			if tc.name == "UnequalZonesStillDistinct" {
				for i := range ms { // zone z0 holds 28 members, z1 and z2 one each
					ms[i].Zone = "z0"
				}
				ms[0].Zone, ms[1].Zone = "z1", "z2"
			}
			zoneOf, rackOf := map[core.NodeID]string{}, map[core.NodeID]string{}
			for _, m := range ms {
				zoneOf[m.ID], rackOf[m.ID] = m.Zone, m.Zone+"/"+m.Rack
			}
			p := mustPlace(t, ms, membership.PlacementConfig{Partitions: 1 << 12})
			var buf []byte
			var dst []core.NodeID
			for i := range loopKeys {
				k := key(buf, i)
				dst = p.Owners(k, 3, dst[:0])
				require.Len(t, dst, tc.wantN)
				require.Equal(t, p.Owner(k), dst[0], "Owners starts with Owner")
				zones, racks, ids := map[string]bool{}, map[string]bool{}, map[core.NodeID]bool{}
				for _, id := range dst {
					zones[zoneOf[id]], racks[rackOf[id]], ids[id] = true, true, true
				}
				require.Len(t, ids, tc.wantN, "distinct members")
				require.Len(t, zones, tc.wantZones, "distinct zones for key %d", i)
				require.Len(t, racks, tc.wantRacks, "distinct racks for key %d", i)
			}
		})
	}
}

func TestPlacementIgnoresInsertionOrder(t *testing.T) {
	ms := fakeMembers(50, 5, 3, func(i int) int { return 1 + i%4 })
	cfg := membership.PlacementConfig{Partitions: smallTable}
	a := mustPlace(t, ms, cfg)
	shuffled := slices.Clone(ms)
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b := mustPlace(t, shuffled, cfg)
	for part := range a.Partitions() {
		require.Equal(t, a.PartitionOwner(part), b.PartitionOwner(part))
	}
	var buf []byte
	for i := range loopKeys {
		k := key(buf, i)
		require.Equal(t, a.Owners(k, 3, nil), b.Owners(k, 3, nil))
	}
}

// TestGoldenVectors pins the placement function: every node, build and
// platform must compute these owners for this membership.
func TestGoldenVectors(t *testing.T) {
	ms := fakeMembers(10, 3, 2, func(i int) int { return 1 + i%3 })
	p := mustPlace(t, ms, membership.PlacementConfig{})
	index := map[core.NodeID]int{}
	for i, m := range ms {
		index[m.ID] = i
	}
	want := [][]int{{2, 0, 7}, {8, 0, 1}, {3, 2, 4}, {5, 0, 7}, {4, 5, 0}, {4, 2, 3}, {5, 0, 7}, {4, 5, 3}}
	var buf []byte
	for i, w := range want {
		var got []int
		for _, id := range p.Owners(key(buf, i), 3, nil) {
			got = append(got, index[id])
		}
		require.Equal(t, w, got, "key %d", i)
	}
	require.Equal(t, 1<<18, p.Partitions())
}

// TestJoinAndLeaveMoveOnlyTheirPartitions checks HRW's minimal disruption
// exactly, partition by partition: a join moves partitions only to the new
// member, a leave only away from the leaving one.
func TestJoinAndLeaveMoveOnlyTheirPartitions(t *testing.T) {
	for _, n := range []int{10, 100} {
		ms := fakeMembers(n+1, 4, 3, func(i int) int { return 1 + i%3 })
		cfg := membership.PlacementConfig{Partitions: smallTable}
		before, joined, left := mustPlace(t, ms[:n], cfg), mustPlace(t, ms, cfg), mustPlace(t, ms[1:n], cfg)
		var movedJoin, movedLeave int
		for part := range before.Partitions() {
			o := before.PartitionOwner(part)
			if j := joined.PartitionOwner(part); j != o {
				require.Equal(t, ms[n].ID, j, "N=%d: a join moved a partition to an old member", n)
				movedJoin++
			}
			if l := left.PartitionOwner(part); l != o {
				require.Equal(t, ms[0].ID, o, "N=%d: a leave moved a partition of a member that stayed", n)
				movedLeave++
			}
		}
		var total float64
		for _, m := range ms {
			total += float64(m.Weight)
		}
		P := float64(before.Partitions())
		idealJoin := P * float64(ms[n].Weight) / total
		idealLeave := P * float64(ms[0].Weight) / (total - float64(ms[n].Weight))
		// A member's share of P partitions deviates by about √(P·share):
		// allow 4 deviations.
		for _, c := range []struct {
			name         string
			moved, ideal float64
		}{{"join", float64(movedJoin), idealJoin}, {"leave", float64(movedLeave), idealLeave}} {
			t.Logf("N=%d %s: moved %.0f partitions of %.0f, ideal %.0f", n, c.name, c.moved, P, c.ideal)
			require.InDelta(t, c.ideal, c.moved, 4*math.Sqrt(c.ideal), "N=%d %s", n, c.name)
		}
	}
}

func TestPlacementConfigErrors(t *testing.T) {
	ms := fakeMembers(3, 3, 1, one)
	tests := []struct {
		name string
		ms   []core.Member
		cfg  membership.PlacementConfig
	}{
		{"TooManyReplicas", ms, membership.PlacementConfig{Replicas: membership.MaxReplicas + 1}},
		{"NegativeReplicas", ms, membership.PlacementConfig{Replicas: -1}},
		{"PartitionsNotPowerOfTwo", ms, membership.PlacementConfig{Partitions: 3000}},
		{"DuplicateMember", append(slices.Clone(ms), ms[0]), membership.PlacementConfig{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := membership.NewPlacement(tc.ms, tc.cfg)
			require.ErrorIs(t, err, core.ErrInvalidInput)
		})
	}
}

func TestEmptyPlacementOwnsNothing(t *testing.T) {
	p := mustPlace(t, nil, membership.PlacementConfig{})
	require.True(t, p.Owner([]byte("k")).IsZero())
	require.Empty(t, p.Owners([]byte("k"), 3, nil))
}

func TestLookupsDoNotAllocate(t *testing.T) {
	p := mustPlace(t, fakeMembers(20, 4, 2, one), membership.PlacementConfig{Partitions: 1 << 16})
	k := []byte("some key")
	dst := make([]core.NodeID, 0, 3)
	require.Zero(t, testing.AllocsPerRun(1000, func() { _ = p.Owner(k) }))
	require.Zero(t, testing.AllocsPerRun(1000, func() { dst = p.Owners(k, 3, dst[:0]) }))
}

func TestPartitionOwnerMatchesOwner(t *testing.T) {
	p := mustPlace(t, fakeMembers(7, 3, 1, one), membership.PlacementConfig{Partitions: 1 << 16})
	var buf []byte
	for i := range 5000 {
		k := key(buf, i)
		require.Equal(t, p.Owner(k), p.PartitionOwner(p.Partition(k)))
	}
}

func TestOnlyWeightRatiosMatter(t *testing.T) {
	small := fakeMembers(12, 3, 2, func(i int) int { return 1 + i%3 })
	big := slices.Clone(small)
	for i := range big {
		big[i].Weight *= 100
	}
	cfg := membership.PlacementConfig{Partitions: smallTable}
	a, b := mustPlace(t, small, cfg), mustPlace(t, big, cfg)
	for part := range a.Partitions() {
		require.Equal(t, a.PartitionOwner(part), b.PartitionOwner(part))
	}
}
