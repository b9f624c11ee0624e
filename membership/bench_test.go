package membership_test

import (
	"fmt"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
	"github.com/zeebo/xxh3"
)

// lookupLoop runs owner over the test keys in a b.Loop and returns the
// time per lookup.
func lookupLoop(b *testing.B, keys [][]byte, owner func(k []byte) core.NodeID) float64 {
	b.ReportAllocs()
	var sink core.NodeID
	i := 0
	for b.Loop() {
		sink = owner(keys[i&1023])
		i++
	}
	_ = sink
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// BenchmarkOwner measures lookups at N = 10, 100, 1000 with the automatic
// table size, against two baselines run just before in the same run:
// hashing the key alone (Hash) and the seed's range scheme for the same
// members (Seed: a binary search over N weighted ranges). Owner reports
// seed/this, the seed's time per lookup over this one's.
func BenchmarkOwner(b *testing.B) {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = key(nil, i)
	}
	b.Run("Hash", func(b *testing.B) {
		lookupLoop(b, keys, func(k []byte) core.NodeID { return core.NodeID{byte(xxh3.Hash(k))} })
	})
	for _, n := range []int{10, 100, 1000} {
		ms := fakeMembers(n, 5, 4, one)
		p := mustPlace(b, ms, membership.PlacementConfig{})
		seed := newSeedPlacement(ms)
		var seedNs float64
		b.Run(fmt.Sprint("Seed/N=", n), func(b *testing.B) { seedNs = lookupLoop(b, keys, seed.Owner) })
		b.Run(fmt.Sprint("Owner/N=", n), func(b *testing.B) {
			b.ReportMetric(seedNs/lookupLoop(b, keys, p.Owner), "seed/this")
		})
		b.Run(fmt.Sprint("Owners3/N=", n), func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]core.NodeID, 0, 3)
			i := 0
			for b.Loop() {
				dst = p.Owners(keys[i&1023], 3, dst[:0])
				i++
			}
		})
	}
}

// BenchmarkRebuild measures building a placement view (primary and replica
// tables) with the automatic table size.
func BenchmarkRebuild(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		ms := fakeMembers(n, 5, 4, one)
		b.Run(fmt.Sprint("N=", n), func(b *testing.B) {
			b.ReportAllocs()
			var p *membership.Placement
			for b.Loop() {
				p = mustPlace(b, ms, membership.PlacementConfig{})
			}
			b.ReportMetric(float64(p.Partitions()), "partitions")
		})
	}
}
