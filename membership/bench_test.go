package membership_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
	"github.com/zeebo/xxh3"
)

// nsPerOp is the time per iteration of a finished b.Loop.
func nsPerOp(b *testing.B) float64 { return float64(b.Elapsed().Nanoseconds()) / float64(b.N) }

// BenchmarkOwner measures lookups at N = 10, 100, 1000 with the automatic
// table size, against two baselines run just before in the same run:
// hashing the key alone with xxh3 (Hash: the floor any hash-based lookup
// pays) and the seed's range scheme for the same members (Seed: a binary
// search over N weighted ranges). Calls are direct, as an application makes
// them. Owner reports seed/this, the seed's time per lookup over this one's,
// and x-hash, its time over the bare hash's.
func BenchmarkOwner(b *testing.B) {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = key(nil, i)
	}
	var sink uint64
	var hashNs float64
	b.Run("Hash", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sink += xxh3.Hash(keys[i&1023])
			i++
		}
		hashNs = nsPerOp(b)
	})
	for _, n := range []int{10, 100, 1000} {
		ms := fakeMembers(n, 5, 4, one)
		p := mustPlace(b, ms, membership.PlacementConfig{})
		seed := newSeedPlacement(ms)
		var seedNs float64
		b.Run(fmt.Sprint("Seed/N=", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				id := seed.Owner(keys[i&1023])
				sink += uint64(id[0])
				i++
			}
			seedNs = nsPerOp(b)
		})
		b.Run(fmt.Sprint("Owner/N=", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				id := p.Owner(keys[i&1023])
				sink += uint64(id[0])
				i++
			}
			ns := nsPerOp(b)
			b.ReportMetric(seedNs/ns, "seed/this")
			b.ReportMetric(ns/hashNs, "x-hash")
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
