package integration_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
)

// placementMember is member i of a synthetic fleet: five zones of four racks.
func placementMember(i, weight int) core.Member {
	return core.Member{
		ID:     core.NodeID(sha256.Sum256(binary.BigEndian.AppendUint64([]byte("member"), uint64(i)))),
		Region: "r0", Zone: fmt.Sprintf("z%d", i%5), Rack: fmt.Sprintf("k%d", (i/5)%4),
		Weight: weight,
	}
}

func placementMembers(n int, weight func(int) int) []core.Member {
	ms := make([]core.Member, n)
	for i := range ms {
		ms[i] = placementMember(i, weight(i))
	}
	return ms
}

func placementKey(buf []byte, i int) []byte {
	return binary.LittleEndian.AppendUint64(append(buf[:0], "key-"...), uint64(i))
}

func mustPlacement(b *testing.B, ms []core.Member) *membership.Placement {
	p, err := membership.NewPlacement(ms, membership.PlacementConfig{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkPlacementQuality measures the placement goals of DESIGN.md §4 at
// N = 10, 100, 1000 as metrics: the keys moved when one member joins or
// leaves over the ideal share (1/(N+1), 1/N; goal ≤ 1.1) over max(2^20,
// 4000(N+1)) keys, and the most loaded member's share over its weight's
// with weights 1..4 and 10^4 keys per weight unit (goal ≤ 1.05). The
// numbers are deterministic; the time per op is that of one measurement.
func BenchmarkPlacementQuality(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint("N=", n), func(b *testing.B) {
			ms := placementMembers(n+1, func(int) int { return 1 })
			weighted := placementMembers(n, func(i int) int { return 1 + i%4 })
			var join, leave, balance float64
			for b.Loop() {
				join, leave = movement(b, ms, n)
				balance = maxLoad(b, weighted)
			}
			b.ReportMetric(join, "join/ideal")
			b.ReportMetric(leave, "leave/ideal")
			b.ReportMetric(balance, "max/expected")
		})
	}
}

// movement returns the keys that change owner when member n joins the
// first n, and when member 0 leaves them, each over its ideal share.
func movement(b *testing.B, ms []core.Member, n int) (join, leave float64) {
	base, joined, left := mustPlacement(b, ms[:n]), mustPlacement(b, ms), mustPlacement(b, ms[1:n])
	keys := max(1<<20, 4000*(n+1))
	var buf []byte
	var movedJoin, movedLeave int
	for i := range keys {
		buf = placementKey(buf, i)
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

// maxLoad returns the largest ratio of a member's keys to its weight's
// share, over 10^4 keys per weight unit.
func maxLoad(b *testing.B, ms []core.Member) float64 {
	p := mustPlacement(b, ms)
	weight, total := map[core.NodeID]float64{}, 0.0
	for _, m := range ms {
		weight[m.ID] = float64(m.Weight)
		total += float64(m.Weight)
	}
	keys := int(total) * 10_000
	load := make(map[core.NodeID]int, len(ms))
	var buf []byte
	for i := range keys {
		buf = placementKey(buf, i)
		load[p.Owner(buf)]++
	}
	worst := 0.0
	for id, c := range load {
		worst = max(worst, float64(c)/(float64(keys)*weight[id]/total))
	}
	return worst
}
