package swim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
)

// Every case starts from a node that holds X alive at incarnation 5 and
// trusts X, Y, Z and A (A is a member turned attacker). The attack must leave
// the node's view of X unchanged.
func TestNoMemberCanSpeakForAnother(t *testing.T) {
	x, y, z, a := newIdent(t, "x"), newIdent(t, "y"), newIdent(t, "z"), newIdent(t, "a")
	outsider := newIdent(t, "outsider")

	tests := []struct {
		name   string
		attack func(t *testing.T, r *rig) error
		// rejected: the record reaches signature verification and fails it;
		// malformed: the request is refused before any record is considered.
		rejected, malformed bool
	}{
		{"an alive record signed by another member's key is rejected", func(t *testing.T, r *rig) error {
			return r.push(a, mustSign(t, a.signer, kindAlive, x.id, x.id, 9)) // claims X, signed by A
		}, true, false},
		{"a leave signed by another member's key is rejected", func(t *testing.T, r *rig) error {
			return r.push(a, mustSign(t, a.signer, kindLeave, x.id, x.id, 5))
		}, true, false},
		{"an accusation forged in an honest member's name is rejected", func(t *testing.T, r *rig) error {
			return r.push(a, mustSign(t, a.signer, kindSuspect, x.id, z.id, 5)) // pins it on Z, signed by A
		}, true, false},
		{"a dead verdict forged in an honest member's name is rejected", func(t *testing.T, r *rig) error {
			return r.push(a, mustSign(t, a.signer, kindDead, x.id, y.id, 5))
		}, true, false},
		{"a record about X signed by Y is malformed", func(t *testing.T, r *rig) error {
			raw := forge(t, y.signer, kindAlive, x.id, y.id, 9) // Y's genuine signature, but about X
			_, err := decodeRecord(raw)
			require.ErrorIs(t, err, core.ErrInvalidInput)
			return r.pushRaw(y, raw)
		}, false, true},
		{"a self-accusation is malformed", func(t *testing.T, r *rig) error {
			return r.pushRaw(x, forge(t, x.signer, kindDead, x.id, x.id, 5))
		}, false, true},
		{"a replayed older incarnation is ignored", func(t *testing.T, r *rig) error {
			return r.push(a, mustSign(t, x.signer, kindAlive, x.id, x.id, 3)) // X's genuine old record
		}, false, false},
		{"a replayed older leave is ignored", func(t *testing.T, r *rig) error {
			return r.push(a, mustSign(t, x.signer, kindLeave, x.id, x.id, 4))
		}, false, false},
		{"an accusation of an incarnation X never announced is ignored", func(t *testing.T, r *rig) error {
			return r.push(a, mustSign(t, a.signer, kindDead, x.id, a.id, 1<<62)) // would be unrefutable
		}, false, false},
		{"a record from a key outside the allow-list is rejected", func(t *testing.T, r *rig) error {
			return r.push(outsider, mustSign(t, outsider.signer, kindSuspect, x.id, outsider.id, 5))
		}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, testConfig(), x, y, z, a)
			require.NoError(t, r.push(x, mustSign(t, x.signer, kindAlive, x.id, x.id, 5)))
			before := r.node.Stats()
			st, inc := r.state(x.id)
			require.Equal(t, StateAlive, st)
			require.Equal(t, uint64(5), inc)

			err := tc.attack(t, r)

			st, inc = r.state(x.id)
			require.Equal(t, StateAlive, st, "the attack changed X's state")
			require.Equal(t, uint64(5), inc, "the attack changed X's incarnation")
			after := r.node.Stats()
			if tc.malformed {
				require.ErrorIs(t, err, core.ErrInvalidInput)
			}
			if tc.rejected {
				require.NoError(t, err)
				require.Equal(t, before.Rejected+1, after.Rejected, "the record was not rejected by verification")
			} else {
				require.False(t, !tc.malformed && err != nil, "unexpected error %v", err)
				require.Equal(t, before.Rejected, after.Rejected)
				require.Equal(t, before.Verified, after.Verified, "an irrelevant or malformed record must not cost a verification")
			}
		})
	}
}

// pushRaw pushes one raw record encoding, bypassing the record encoder.
func (r *rig) pushRaw(from ident, raw []byte) error {
	b := []byte{protocolVersion, byte(reqPush)}
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, uint32(len(raw)))
	b = append(b, raw...)
	_, err := r.endpoint(from).Request(context.Background(), core.Peer{ID: r.self.id}, b)
	r.clock.RunFor(0)
	return err
}

func TestAttributedAccusationsAreAcceptedAndRefutable(t *testing.T) {
	x, a := newIdent(t, "x"), newIdent(t, "a")
	r := newRig(t, testConfig(), x, a)
	require.NoError(t, r.push(x, mustSign(t, x.signer, kindAlive, x.id, x.id, 5)))

	// A may accuse X in its own name: the accusation is attributable to A.
	require.NoError(t, r.push(a, mustSign(t, a.signer, kindSuspect, x.id, a.id, 5)))
	st, _ := r.state(x.id)
	require.Equal(t, StateSuspect, st)

	// X refutes with a higher incarnation, which outranks the accusation.
	require.NoError(t, r.push(x, mustSign(t, x.signer, kindAlive, x.id, x.id, 6)))
	st, inc := r.state(x.id)
	require.Equal(t, StateAlive, st)
	require.Equal(t, uint64(6), inc)

	// Replaying the old accusation now changes nothing.
	require.NoError(t, r.push(a, mustSign(t, a.signer, kindSuspect, x.id, a.id, 5)))
	st, _ = r.state(x.id)
	require.Equal(t, StateAlive, st)
}

func TestAccusationOfThisNodeIsRefuted(t *testing.T) {
	a := newIdent(t, "a")
	r := newRig(t, testConfig(), a)
	self, _ := r.node.Member(r.self.id)
	require.NoError(t, r.push(a, mustSign(t, a.signer, kindDead, r.self.id, a.id, self.Incarnation)))
	after, _ := r.node.Member(r.self.id)
	require.Equal(t, StateAlive, after.State)
	require.Equal(t, self.Incarnation+1, after.Incarnation)
	require.Equal(t, int64(1), r.node.Stats().Refutations)
	require.Equal(t, 1, r.node.Stats().Health, "being accused raises the health score")
}

func TestRecordIsVerifiedOnceHoweverOftenReceived(t *testing.T) {
	x, a := newIdent(t, "x"), newIdent(t, "a")
	r := newRig(t, testConfig(), x, a)
	alive := mustSign(t, x.signer, kindAlive, x.id, x.id, 5)
	for range 50 {
		require.NoError(t, r.push(a, alive))
	}
	require.Equal(t, int64(1), r.verify.Load(), "50 receipts of one record")

	// A record not kept (a dead verdict by push-pull only makes the node
	// suspect X) is still verified once: the cache remembers it.
	dead := mustSign(t, a.signer, kindDead, x.id, a.id, 5)
	for range 50 {
		r.node.ingest(context.Background(), []*record{dead}, true)
	}
	st, _ := r.state(x.id)
	require.Equal(t, StateSuspect, st)
	require.Equal(t, int64(2), r.verify.Load(), "50 anti-entropy receipts of a verdict")
	require.GreaterOrEqual(t, r.node.Stats().CacheHits, int64(49))
}

func TestKeyThatDoesNotHashToTheIssuerIsRejected(t *testing.T) {
	x, y := newIdent(t, "x"), newIdent(t, "y")
	cfg := testConfig()
	// A broken resolver hands out Y's key for X (Y signs "as X").
	cfg.Keys = KeyResolverFunc(func(_ context.Context, id core.NodeID, _ []byte) (core.PublicKey, error) {
		if id == x.id {
			return y.signer.Public(), nil
		}
		return nil, core.ErrNotFound
	})
	r := newRig(t, cfg, x, y)
	require.NoError(t, r.push(y, mustSign(t, y.signer, kindAlive, x.id, x.id, 5)))
	st, _ := r.state(x.id)
	require.Zero(t, st, "the node accepted a key that is not X's")
	require.Equal(t, int64(1), r.node.Stats().Rejected)
}

func TestVerifyRecordErrors(t *testing.T) {
	x, y := newIdent(t, "x"), newIdent(t, "y")
	keys := NewStaticKeys(x.signer.Public())
	good := mustSign(t, x.signer, kindAlive, x.id, x.id, 1)
	require.NoError(t, verifyRecord(context.Background(), good, keys, y.id, y.signer.Public(), nil))

	tampered, err := decodeRecord(append([]byte(nil), good.raw...))
	require.NoError(t, err)
	tampered.raw[len(tampered.raw)-1] ^= 1
	tampered, err = decodeRecord(tampered.raw)
	require.NoError(t, err)
	require.ErrorIs(t, verifyRecord(context.Background(), tampered, keys, y.id, y.signer.Public(), nil), core.ErrVerification)

	unknown := mustSign(t, y.signer, kindAlive, y.id, y.id, 1)
	err = verifyRecord(context.Background(), unknown, keys, x.id, x.signer.Public(), nil)
	require.True(t, errors.Is(err, core.ErrNotFound), "got %v", err)
}

// A record whose issuer's key cannot be resolved yet is not remembered as
// invalid: once the key resolves, the same record counts. A record that
// fails its signature stays rejected without another verification.
func TestRecordRejectedForAReasonThatCanPassIsVerifiedAgain(t *testing.T) {
	x, a := newIdent(t, "x"), newIdent(t, "a")
	keys := NewStaticKeys(x.signer.Public(), a.signer.Public())
	tests := []struct {
		name string
		// resolve is the node's resolver while down reports whether the
		// condition that fails resolution still holds.
		resolve func(down *bool) KeyResolver
		// before runs between the first and the second receipt.
		before func(t *testing.T, r *rig, down *bool)
		record func(t *testing.T) *record
		want   State
	}{
		{"an accusation heard while the registry did not answer", func(down *bool) KeyResolver {
			return KeyResolverFunc(func(ctx context.Context, id core.NodeID, cred []byte) (core.PublicKey, error) {
				if id == a.id && *down {
					return nil, fmt.Errorf("registry: %w", context.DeadlineExceeded)
				}
				return keys.ResolveKey(ctx, id, cred)
			})
		}, func(t *testing.T, r *rig, down *bool) { *down = false },
			func(t *testing.T) *record { return mustSign(t, a.signer, kindSuspect, x.id, a.id, 5) }, StateSuspect},
		{"an accusation heard while its accuser's certificate was not yet valid", func(down *bool) KeyResolver {
			return KeyResolverFunc(func(ctx context.Context, id core.NodeID, cred []byte) (core.PublicKey, error) {
				if id == a.id && *down {
					return nil, fmt.Errorf("certificate not yet valid: %w", core.ErrVerification)
				}
				return keys.ResolveKey(ctx, id, cred)
			})
		}, func(t *testing.T, r *rig, down *bool) { *down = false },
			func(t *testing.T) *record { return mustSign(t, a.signer, kindSuspect, x.id, a.id, 5) }, StateSuspect},
		{"an accusation heard before its accuser's credential", func(*bool) KeyResolver {
			// Like clusterd's: a key comes only from a credential.
			return KeyResolverFunc(func(ctx context.Context, id core.NodeID, cred []byte) (core.PublicKey, error) {
				if len(cred) == 0 {
					return nil, fmt.Errorf("no credential for %s: %w", id.Short(), core.ErrNotFound)
				}
				return keys.ResolveKey(ctx, id, cred)
			})
		}, func(t *testing.T, r *rig, _ *bool) {
			alive, err := signRecord(a.signer, record{kind: kindAlive, subject: a.id, issuer: a.id, inc: 5, credential: []byte("chain of a")})
			require.NoError(t, err)
			require.NoError(t, r.push(a, alive))
		}, func(t *testing.T) *record { return mustSign(t, a.signer, kindSuspect, x.id, a.id, 5) }, StateSuspect},
		{"an accusation with a bad signature stays rejected", func(*bool) KeyResolver { return keys },
			func(t *testing.T, r *rig, _ *bool) {},
			func(t *testing.T) *record { return mustSign(t, x.signer, kindSuspect, x.id, a.id, 5) }, StateAlive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			down := true
			cfg := testConfig()
			cfg.Keys = tc.resolve(&down)
			r := newRig(t, cfg, x, a)
			alive, err := signRecord(x.signer, record{kind: kindAlive, subject: x.id, issuer: x.id, inc: 5, credential: []byte("chain of x")})
			require.NoError(t, err)
			require.NoError(t, r.push(x, alive))
			rec := tc.record(t)

			require.NoError(t, r.push(a, rec))
			st, _ := r.state(x.id)
			require.Equal(t, StateAlive, st, "the first receipt cannot be verified")
			require.Equal(t, int64(1), r.node.Stats().Rejected)

			tc.before(t, r, &down)
			verified := r.node.Stats().Verified
			require.NoError(t, r.push(a, rec))
			st, _ = r.state(x.id)
			require.Equal(t, tc.want, st)
			if tc.want == StateAlive {
				require.Equal(t, verified, r.node.Stats().Verified, "a bad signature is remembered")
			}
		})
	}
}
