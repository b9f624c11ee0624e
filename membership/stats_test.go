//go:build !race

package membership_test

import (
	"fmt"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
	"github.com/stretchr/testify/require"
)

// These statistics use the automatic table size and millions of keys, too
// slow under -race; placement_test.go checks the same invariants on small
// tables in every mode.

func TestMovementWithinIdealShare(t *testing.T) {
	for _, n := range []int{10, 100, 1000} {
		t.Run(fmt.Sprint("N=", n), func(t *testing.T) {
			ms := fakeMembers(n+1, 5, 4, one)
			base := mustPlace(t, ms[:n], membership.PlacementConfig{})
			joined := mustPlace(t, ms, membership.PlacementConfig{})
			left := mustPlace(t, ms[1:n], membership.PlacementConfig{})
			keys := keysFor(n)
			var buf []byte
			var movedJoin, movedLeave int
			for i := range keys {
				k := key(buf, i)
				o := base.Owner(k)
				if joined.Owner(k) != o {
					movedJoin++
				}
				if left.Owner(k) != o {
					movedLeave++
				}
			}
			joinRatio := float64(movedJoin) / (float64(keys) / float64(n+1))
			leaveRatio := float64(movedLeave) / (float64(keys) / float64(n))
			t.Logf("N=%d P=%d keys=%d: join moved %.4f%% (%.3f× ideal 1/(N+1)), leave moved %.4f%% (%.3f× ideal 1/N)",
				n, base.Partitions(), keys, 100*float64(movedJoin)/float64(keys), joinRatio, 100*float64(movedLeave)/float64(keys), leaveRatio)
			require.LessOrEqual(t, joinRatio, 1.1)
			require.LessOrEqual(t, leaveRatio, 1.1)

			seedJoin, seedLeave := seedMovement(ms, n, keys)
			t.Logf("N=%d seed range scheme: join moved %.2f%% (%.1f× ideal), leave %.2f%% (%.1f× ideal)",
				n, 100*seedJoin/float64(n+1), seedJoin, 100*seedLeave/float64(n), seedLeave)
		})
	}
}

func TestWeightsHonoured(t *testing.T) {
	const keysPerUnit = 10000
	for _, n := range []int{10, 100, 1000} {
		t.Run(fmt.Sprint("N=", n), func(t *testing.T) {
			ms := fakeMembers(n, 5, 4, func(i int) int { return 1 + i%4 })
			p := mustPlace(t, ms, membership.PlacementConfig{})
			weight, total := map[core.NodeID]float64{}, 0.0
			for _, m := range ms {
				weight[m.ID] = float64(m.Weight)
				total += float64(m.Weight)
			}
			// Exact share of the table: what an infinite key stream would see.
			parts := map[core.NodeID]int{}
			for part := range p.Partitions() {
				parts[p.PartitionOwner(part)]++
			}
			var exactMax float64
			for id, c := range parts {
				exactMax = max(exactMax, float64(c)/float64(p.Partitions())/(weight[id]/total))
			}
			// Sampled: 10^4 keys per weight unit.
			keys := int(total) * keysPerUnit
			load := map[core.NodeID]int{}
			var buf []byte
			for i := range keys {
				load[p.Owner(key(buf, i))]++
			}
			var sampledMax float64
			for id, c := range load {
				sampledMax = max(sampledMax, float64(c)/(float64(keys)*weight[id]/total))
			}
			t.Logf("N=%d P=%d: table max/expected %.4f; %d keys (10^4 per weight unit) max/expected %.4f",
				n, p.Partitions(), exactMax, keys, sampledMax)
			require.Len(t, parts, n, "every member owns partitions")
			require.LessOrEqual(t, exactMax, 1.05)
			require.LessOrEqual(t, sampledMax, 1.05)
		})
	}
}

func TestReplicaSpreadStatistics(t *testing.T) {
	for _, n := range []int{10, 100, 1000} {
		t.Run(fmt.Sprint("N=", n), func(t *testing.T) {
			ms := fakeMembers(n, 5, 4, func(i int) int { return 1 + i%4 })
			zone := map[core.NodeID]string{}
			for _, m := range ms {
				zone[m.ID] = m.Zone
			}
			p := mustPlace(t, ms, membership.PlacementConfig{})
			const keys = 1 << 20
			var buf []byte
			dst := make([]core.NodeID, 0, 3)
			replicaLoad := map[core.NodeID]int{}
			for i := range keys {
				dst = p.Owners(key(buf, i), 3, dst[:0])
				require.Len(t, dst, 3)
				zones := map[string]bool{zone[dst[0]]: true, zone[dst[1]]: true, zone[dst[2]]: true}
				require.Len(t, zones, 3, "key %d: replicas share a zone", i)
				for _, id := range dst {
					replicaLoad[id]++
				}
			}
			var total, mx float64
			for _, m := range ms {
				total += float64(m.Weight)
			}
			for _, m := range ms {
				mx = max(mx, float64(replicaLoad[m.ID])/(3*keys*float64(m.Weight)/total))
			}
			t.Logf("N=%d: %d keys, 100%% of Owners(key,3) in 3 distinct zones; replica-load max/expected %.3f", n, keys, mx)
		})
	}
}
