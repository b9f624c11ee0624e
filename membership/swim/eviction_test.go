package swim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A is a member turned attacker; X is healthy but cannot answer in the rig,
// so only the node's own timer could rightly declare it dead. Y and Z make
// the cluster large enough for suspicions to expect confirmations.
func TestOneAccuserCannotEvictAHealthyMember(t *testing.T) {
	x, y, z, a := newIdent(t, "x"), newIdent(t, "y"), newIdent(t, "z"), newIdent(t, "a")
	tests := []struct {
		name   string
		attack func(t *testing.T, r *rig)
		want   State
	}{
		{"a lone dead verdict only makes the node suspect", func(t *testing.T, r *rig) {
			require.NoError(t, r.push(a, mustSign(t, a.signer, kindDead, x.id, a.id, 5)))
		}, StateSuspect},
		{"a suspicion and a dead verdict sent together only make the node suspect", func(t *testing.T, r *rig) {
			require.NoError(t, r.push(a, mustSign(t, a.signer, kindSuspect, x.id, a.id, 5), mustSign(t, a.signer, kindDead, x.id, a.id, 5)))
		}, StateSuspect},
		{"a dead verdict right after the suspicion only makes the node suspect", func(t *testing.T, r *rig) {
			require.NoError(t, r.push(a, mustSign(t, a.signer, kindSuspect, x.id, a.id, 5)))
			r.clock.RunFor(time.Second)
			require.NoError(t, r.push(a, mustSign(t, a.signer, kindDead, x.id, a.id, 5)))
		}, StateSuspect},
		{"a dead verdict bundled with the refutation it answers only makes the node suspect", func(t *testing.T, r *rig) {
			require.NoError(t, r.push(a, mustSign(t, a.signer, kindSuspect, x.id, a.id, 5)))
			_, hi := r.node.cfg.SuspicionTimeouts(5)
			r.clock.RunFor(hi) // the node's own timer declares X dead
			st, _ := r.state(x.id)
			require.Equal(t, StateDead, st)
			// X refutes; A re-kills the new incarnation in the same push.
			require.NoError(t, r.push(a, mustSign(t, x.signer, kindAlive, x.id, x.id, 6), mustSign(t, a.signer, kindDead, x.id, a.id, 6)))
		}, StateSuspect},
		{"a dead verdict after the suspicion ran its shortest timeout is applied", func(t *testing.T, r *rig) {
			require.NoError(t, r.push(a, mustSign(t, a.signer, kindSuspect, x.id, a.id, 5)))
			lo, _ := r.node.cfg.SuspicionTimeouts(5)
			r.clock.RunFor(lo)
			st, _ := r.state(x.id)
			require.Equal(t, StateSuspect, st, "the node's own timer runs longer without confirmations")
			require.NoError(t, r.push(a, mustSign(t, a.signer, kindDead, x.id, a.id, 5)))
		}, StateDead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, testConfig(), x, y, z, a)
			for _, id := range []ident{x, y, z, a} {
				require.NoError(t, r.push(id, mustSign(t, id.signer, kindAlive, id.id, id.id, 5)))
			}
			tc.attack(t, r)
			st, _ := r.state(x.id)
			require.Equal(t, tc.want, st)
		})
	}
}
