package swim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A member that left said its last: its older records stay obsolete after
// its tombstone is reaped, however late a member replays them. A member
// declared dead (it may be alive across a partition) is not held to that.
func TestDepartedMemberIsNotReplayedBackAfterTheReap(t *testing.T) {
	x, a := newIdent(t, "x"), newIdent(t, "a")
	tests := []struct {
		name   string
		gone   func(t *testing.T, r *rig)
		replay uint64 // incarnation of X's alive record replayed by A
		want   State  // 0: X stays unknown
	}{
		{"the alive record it left in is ignored", func(t *testing.T, r *rig) {
			require.NoError(t, r.push(x, mustSign(t, x.signer, kindLeave, x.id, x.id, 5)))
		}, 5, 0},
		{"an older alive record is ignored", func(t *testing.T, r *rig) {
			require.NoError(t, r.push(x, mustSign(t, x.signer, kindLeave, x.id, x.id, 5)))
		}, 4, 0},
		{"a restart with a higher incarnation is accepted", func(t *testing.T, r *rig) {
			require.NoError(t, r.push(x, mustSign(t, x.signer, kindLeave, x.id, x.id, 5)))
		}, 6, StateAlive},
		{"a member declared dead comes back in the same incarnation", func(t *testing.T, r *rig) {
			require.NoError(t, r.push(a, mustSign(t, a.signer, kindSuspect, x.id, a.id, 5)))
			_, hi := r.node.cfg.SuspicionTimeouts(3)
			r.clock.RunFor(hi)
			st, _ := r.state(x.id)
			require.Equal(t, StateDead, st)
		}, 5, StateAlive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, testConfig(), x, a)
			require.NoError(t, r.push(a, mustSign(t, a.signer, kindAlive, a.id, a.id, 5)))
			require.NoError(t, r.push(x, mustSign(t, x.signer, kindAlive, x.id, x.id, 5)))
			tc.gone(t, r)
			r.clock.RunFor(r.node.cfg.TombstoneTimeout + time.Second)
			st, _ := r.state(x.id)
			require.Zero(t, st, "the tombstone was not reaped")

			require.NoError(t, r.push(a, mustSign(t, x.signer, kindAlive, x.id, x.id, tc.replay)))
			st, _ = r.state(x.id)
			require.Equal(t, tc.want, st)
		})
	}
}

func TestDeparturesAreBoundedOldestFirst(t *testing.T) {
	var d departures
	id := func(i int) [32]byte { return [32]byte{byte(i), byte(i >> 8), byte(i >> 16)} }
	for i := range maxDeparted + 10 {
		d.add(id(i), 5)
	}
	require.Len(t, d.inc, maxDeparted)
	require.Len(t, d.order, maxDeparted)
	require.False(t, d.obsolete(id(0), 5), "the oldest departure is forgotten")
	require.True(t, d.obsolete(id(maxDeparted+9), 5))
	require.False(t, d.obsolete(id(maxDeparted+9), 6), "a higher incarnation is not obsolete")
	d.forget(id(maxDeparted + 9))
	require.False(t, d.obsolete(id(maxDeparted+9), 5))
	require.Len(t, d.order, maxDeparted-1)
}

// Records of a member this node never knew that end in a departure or a
// verdict leave no trace, however often they are replayed.
func TestReplayedEndOfAnUnknownMemberLeavesNoTrace(t *testing.T) {
	x, a := newIdent(t, "x"), newIdent(t, "a")
	for _, tc := range []struct {
		name string
		end  func(t *testing.T) *record
	}{
		{"a departure", func(t *testing.T) *record { return mustSign(t, x.signer, kindLeave, x.id, x.id, 5) }},
		{"a dead verdict", func(t *testing.T) *record { return mustSign(t, a.signer, kindDead, x.id, a.id, 5) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, testConfig(), x, a)
			require.NoError(t, r.push(a, mustSign(t, a.signer, kindAlive, a.id, a.id, 5)))
			alive, end := mustSign(t, x.signer, kindAlive, x.id, x.id, 5), tc.end(t)
			for range 100 {
				require.NoError(t, r.push(a, alive, end))
			}
			st, _ := r.state(x.id)
			require.Zero(t, st, "a tombstone of a member never known")
			r.node.mu.Lock()
			defer r.node.mu.Unlock()
			require.Len(t, r.node.members, 1)
			require.LessOrEqual(t, len(r.node.probeOrder), 1, "the probe order grew with each replay")
		})
	}
}
