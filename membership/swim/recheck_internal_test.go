package swim

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
)

// After Recheck refused a member, a record of it that was verified (and
// remembered as valid) before does not bring it back once its tombstone is
// gone: the remembered verdicts were dropped with the old trust.
func TestRecheckForgetsVerdictsOfTheOldTrust(t *testing.T) {
	mallory := newIdent(t, "mallory")
	var refused atomic.Bool
	cfg := testConfig()
	var r *rig
	cfg.Keys = KeyResolverFunc(func(ctx context.Context, id core.NodeID, credential []byte) (core.PublicKey, error) {
		if id == mallory.id && refused.Load() {
			return nil, core.ErrVerification
		}
		return r.keys.ResolveKey(ctx, id, credential)
	})
	r = newRig(t, cfg, mallory)
	alive := mustSign(t, mallory.signer, kindAlive, mallory.id, mallory.id, 1)
	require.NoError(t, r.push(mallory, alive))
	s, _ := r.state(mallory.id)
	require.Equal(t, StateAlive, s)

	refused.Store(true)
	dead, err := r.node.Recheck(context.Background())
	require.NoError(t, err)
	require.Equal(t, []core.NodeID{mallory.id}, dead)
	r.clock.RunFor(cfg.TombstoneTimeout + time.Minute)
	s, _ = r.state(mallory.id)
	require.Zero(t, s, "the tombstone was not reaped")

	require.NoError(t, r.push(mallory, alive))
	s, _ = r.state(mallory.id)
	assert.Zero(t, s, "a verdict remembered from the old trust brought the member back")
}
