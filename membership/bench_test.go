package membership_test

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
	"github.com/zeebo/xxh3"
)

// nsPerOp is the time per iteration of a finished b.Loop.
func nsPerOp(b *testing.B) float64 { return float64(b.Elapsed().Nanoseconds()) / float64(b.N) }

// BenchmarkOwner measures lookups of 1024 hot keys at N = 10, 100, 1000
// with the automatic table size. Each iteration makes one pass over the
// keys for each of three contenders in turn, timing every pass: hashing the
// key alone with xxh3 (the floor any hash-based lookup pays), the seed's
// range scheme for the same members (a binary search over N weighted
// ranges), and Owner. A pass of 1024 calls keeps the harness out of the
// figure (a b.Loop iteration per call with a shared sink costs about 3 ns
// here, as much as the table access it would be measuring), and timing the
// contenders pass by pass lets every ratio compare passes made moments
// apart.
//
// Figures are per lookup. On a shared host the core's speed changes from
// moment to moment: the bare hash alone takes 3.5-4.5 ns per key in some
// passes and 7-8 ns in others, for seconds at a time, with little in
// between (the host shares the core, most likely with another tenant on its
// sibling hyperthread). So Owner reports both its median pass (ns/op) and
// its 1st percentile (quiet-ns: the cost on an uncontended core, when the
// run saw one), the same two for the hash (hash-ns, hash-quiet-ns) and the
// seed (seed-ns, seed-quiet-ns), and the medians of the per-pass ratios,
// which the machine's speed hardly moves: x-hash (Owner ÷ hash) and
// seed/this (seed ÷ Owner).
func BenchmarkOwner(b *testing.B) {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = key(nil, i)
	}
	var sink uint64
	per := float64(len(keys))
	for _, n := range []int{10, 100, 1000} {
		ms := fakeMembers(n, 5, 4, one)
		p := mustPlace(b, ms, membership.PlacementConfig{})
		seed := newSeedPlacement(ms)
		b.Run(fmt.Sprint("Owner/N=", n), func(b *testing.B) {
			b.ReportAllocs()
			hash, seedT, owner, xHash, seedX := newPassTimes(), newPassTimes(), newPassTimes(), newPassTimes(), newPassTimes()
			for b.Loop() {
				var hsum, ssum, osum uint64
				t0 := time.Now()
				for _, k := range keys {
					hsum += xxh3.Hash(k)
				}
				t1 := time.Now()
				for _, k := range keys {
					id := seed.Owner(k)
					ssum += uint64(id[0])
				}
				t2 := time.Now()
				for _, k := range keys {
					id := p.Owner(k)
					osum += uint64(id[0])
				}
				t3 := time.Now()
				sink += hsum + ssum + osum
				h, s, o := float64(t1.Sub(t0))/per, float64(t2.Sub(t1))/per, float64(t3.Sub(t2))/per
				hash.add(h)
				seedT.add(s)
				owner.add(o)
				xHash.add(o / h)
				seedX.add(s / o)
			}
			b.ReportMetric(owner.quantile(0.5), "ns/op")
			b.ReportMetric(owner.quantile(0.01), "quiet-ns")
			b.ReportMetric(hash.quantile(0.5), "hash-ns")
			b.ReportMetric(hash.quantile(0.01), "hash-quiet-ns")
			b.ReportMetric(seedT.quantile(0.5), "seed-ns")
			b.ReportMetric(seedT.quantile(0.01), "seed-quiet-ns")
			b.ReportMetric(xHash.quantile(0.5), "x-hash")
			b.ReportMetric(seedX.quantile(0.5), "seed/this")
		})
		// Random keys over a space far larger than any cache: each lookup
		// touches a cold line of the partition table (32 MiB at N = 1000),
		// which is what an application hashing uniformly random keys pays.
		// x-hash compares with hashing the same generated keys.
		b.Run(fmt.Sprint("OwnerRandomKeys/N=", n), func(b *testing.B) {
			b.ReportAllocs()
			var kb [12]byte
			copy(kb[:], "key-")
			var hashOnly float64
			for i := range 1 << 20 {
				binary.LittleEndian.PutUint64(kb[4:], uint64(i)*0x9e3779b97f4a7c15)
				sink += xxh3.Hash(kb[:])
			}
			start := time.Now()
			for i := range 1 << 20 {
				binary.LittleEndian.PutUint64(kb[4:], uint64(i)*0x9e3779b97f4a7c15)
				sink += xxh3.Hash(kb[:])
			}
			hashOnly = float64(time.Since(start).Nanoseconds()) / (1 << 20)
			i := uint64(0)
			for b.Loop() {
				binary.LittleEndian.PutUint64(kb[4:], i*0x9e3779b97f4a7c15)
				id := p.Owner(kb[:])
				sink += uint64(id[0])
				i++
			}
			b.ReportMetric(nsPerOp(b)/hashOnly, "x-hash")
		})
		b.Run(fmt.Sprint("Owners3/N=", n), func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]core.NodeID, 0, 3)
			for b.Loop() {
				for _, k := range keys {
					dst = p.Owners(k, 3, dst[:0])
				}
			}
			b.ReportMetric(nsPerOp(b)/per, "ns/op")
		})
	}
	_ = sink
}

// BenchmarkSeedMovement measures, for contrast with the placement's
// movement (TestMovementWithinIdealShare; integration's
// BenchmarkPlacementQuality), the keys the seed's range scheme moves when one
// member joins or leaves, over the same members and keys: join/ideal and
// leave/ideal are the moved keys over the ideal share (1/(N+1), 1/N),
// join-% the moved keys in percent. The figures are deterministic; the time
// per op is that of one measurement.
func BenchmarkSeedMovement(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		ms := fakeMembers(n+1, 5, 4, one)
		b.Run(fmt.Sprint("N=", n), func(b *testing.B) {
			var join, leave float64
			for b.Loop() {
				join, leave = seedMovement(ms, n, keysFor(n))
			}
			b.ReportMetric(join, "join/ideal")
			b.ReportMetric(leave, "leave/ideal")
			b.ReportMetric(100*join/float64(n+1), "join-%")
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

// passTimes collects per-pass figures, up to a fixed number allocated
// before the benchmark loop, so that recording them allocates nothing in it.
type passTimes struct{ xs []float64 }

func newPassTimes() *passTimes { return &passTimes{xs: make([]float64, 0, 1<<16)} }

func (t *passTimes) add(x float64) {
	if len(t.xs) < cap(t.xs) {
		t.xs = append(t.xs, x)
	}
}

// quantile returns the q-quantile of the figures (sorting them).
func (t *passTimes) quantile(q float64) float64 {
	slices.Sort(t.xs)
	return t.xs[int(q*float64(len(t.xs)-1))]
}
