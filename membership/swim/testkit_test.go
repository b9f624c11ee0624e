package swim

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/sim"
)

var testEpoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// ident is a test identity: a key pair and its NodeID.
type ident struct {
	signer core.Signer
	id     core.NodeID
}

func newIdent(t testing.TB, name string) ident {
	t.Helper()
	seed := sha256.Sum256([]byte("swim-test/" + name))
	s, err := coretest.Ed25519.NewKeyFromSeed(seed[:])
	require.NoError(t, err)
	return ident{signer: s, id: core.NodeIDOf(s.Public())}
}

// countingKey counts Verify calls on a public key.
type countingKey struct {
	core.PublicKey
	calls *atomic.Int64
}

func (k countingKey) Verify(m, c, s []byte) bool {
	k.calls.Add(1)
	return k.PublicKey.Verify(m, c, s)
}

// rig is one Node under test on a sim network, plus raw endpoints that
// play other members (honest or not) byte for byte.
type rig struct {
	t      testing.TB
	clock  *sim.Clock
	net    *sim.Network
	node   *Node
	self   ident
	keys   StaticKeys
	verify atomic.Int64 // Verify calls on keys handed to the node
	peers  map[core.NodeID]*sim.Endpoint
	events []Event
}

// newRig starts a node named "victim" that trusts every listed identity.
func newRig(t testing.TB, cfg Config, trusted ...ident) *rig {
	t.Helper()
	r := &rig{t: t, clock: sim.NewClock(testEpoch), keys: StaticKeys{}, peers: map[core.NodeID]*sim.Endpoint{}}
	r.net = sim.NewNetwork(r.clock, 1)
	r.self = newIdent(t, "victim")
	for _, id := range append([]ident{r.self}, trusted...) {
		r.keys[id.id] = countingKey{PublicKey: id.signer.Public(), calls: &r.verify}
	}
	ep, err := r.net.Attach(core.Peer{ID: r.self.id, Addr: netip.MustParseAddrPort("10.0.0.1:7946")})
	require.NoError(t, err)
	cfg.Signer = r.self.signer
	if cfg.Keys == nil {
		cfg.Keys = r.keys
	}
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	cfg.Events = func(ev Event) { r.events = append(r.events, ev) }
	r.node, err = New(cfg, ep, r.clock)
	require.NoError(t, err)
	t.Cleanup(r.node.Shutdown)
	return r
}

// endpoint returns a raw network endpoint speaking as id.
func (r *rig) endpoint(id ident) *sim.Endpoint {
	if ep := r.peers[id.id]; ep != nil {
		return ep
	}
	ep, err := r.net.Attach(core.Peer{ID: id.id})
	require.NoError(r.t, err)
	r.peers[id.id] = ep
	return ep
}

// push sends records to the node as from would, over the request path.
func (r *rig) push(from ident, recs ...*record) error {
	_, err := r.endpoint(from).Request(context.Background(), core.Peer{ID: r.self.id}, appendRequest(nil, &request{typ: reqPush, records: recs}))
	r.clock.RunFor(0)
	return err
}

// state returns the node's view of id (0 when unknown).
func (r *rig) state(id core.NodeID) (State, uint64) {
	m, ok := r.node.Member(id)
	if !ok {
		return 0, 0
	}
	return m.State, m.Incarnation
}

func mustSign(t testing.TB, s core.Signer, k kind, subject, issuer core.NodeID, inc uint64) *record {
	t.Helper()
	t0 := record{kind: k, subject: subject, issuer: issuer, inc: inc, issuerInc: 1}
	if k == kindAlive {
		t0.meta = Meta{Zone: "z1", Weight: 1}
	}
	rec, err := signRecord(s, t0)
	require.NoError(t, err)
	return rec
}

// forge builds a record with any fields, signed by s, skipping the shape
// rules signRecord enforces, as an attacker's own code would.
func forge(t testing.TB, s core.Signer, k kind, subject, issuer core.NodeID, inc uint64) []byte {
	t.Helper()
	b := []byte{recordVersion, byte(k)}
	b = append(b, subject[:]...)
	b = append(b, issuer[:]...)
	b = binary.BigEndian.AppendUint64(b, inc)
	switch k {
	case kindAlive:
		b = appendMeta(b, Meta{})
		b = appendBytes16(b, nil)
	case kindSuspect, kindDead:
		b = binary.BigEndian.AppendUint64(b, 1)
	}
	sig, err := s.Sign(b, recordContext)
	require.NoError(t, err)
	return appendBytes16(b, sig)
}

func testConfig() Config {
	return DefaultLANConfig()
}
