package swim

import (
	"context"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/sim"
)

// stubMessenger is a core.Messenger that records datagrams and hands
// requests to a function, so a test can play a peer that never answers.
type stubMessenger struct {
	mu      sync.Mutex
	h       core.MessageHandler
	sent    []core.Peer
	request func(ctx context.Context, to core.Peer, payload []byte) ([]byte, error)
}

func (s *stubMessenger) SendDatagram(_ context.Context, to core.Peer, _ []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, to)
	return nil
}

func (s *stubMessenger) Request(ctx context.Context, to core.Peer, payload []byte) ([]byte, error) {
	return s.request(ctx, to, payload)
}

func (s *stubMessenger) Handle(h core.MessageHandler) { s.h = h }

func (s *stubMessenger) sentTo() []core.Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]core.Peer(nil), s.sent...)
}

// A peer that advertises records in every datagram and never hands them over
// holds at most maxPullsPerPeer pulls of this node open.
func TestAPeerCannotHoldPullsOpenWithoutBound(t *testing.T) {
	self, a := newIdent(t, "victim"), newIdent(t, "a")
	var mu sync.Mutex
	var open, most int
	release := make(chan struct{})
	msgr := &stubMessenger{request: func(ctx context.Context, _ core.Peer, _ []byte) ([]byte, error) {
		mu.Lock()
		open++
		most = max(most, open)
		mu.Unlock()
		defer func() { mu.Lock(); open--; mu.Unlock() }()
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, context.Canceled
	}}
	cfg := testConfig()
	cfg.Signer, cfg.Keys = self.signer, NewStaticKeys(self.signer.Public(), a.signer.Public())
	n, err := New(cfg, msgr, core.SystemClock{})
	require.NoError(t, err)
	defer n.Shutdown()
	defer close(release)

	const datagrams, perDatagram = 50, 20
	for i := range datagrams {
		d := &datagram{typ: msgGossip, self: notice{kind: kindAlive, inc: 1, digest: digest{0xff}}}
		for j := range perDatagram {
			d.notices = append(d.notices, notice{subject: core.NodeID{byte(i), byte(j), 1}, kind: kindAlive, inc: 1, digest: digest{byte(i), byte(j)}})
		}
		msgr.h.HandleDatagram(core.Peer{ID: a.id}, appendDatagram(nil, d))
	}
	mostSoFar := func() int { mu.Lock(); defer mu.Unlock(); return most }
	// The pulls start on clock timers: wait for them, then for any more.
	require.Eventually(t, func() bool { return mostSoFar() >= maxPullsPerPeer }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, maxPullsPerPeer, mostSoFar(), "pulls held open by one peer")
	n.mu.Lock()
	pending := len(n.pending)
	n.mu.Unlock()
	require.LessOrEqual(t, pending, maxPullsPerPeer*(perDatagram+1))
}

// A ping-req makes this node probe only members it knows, at the address it
// knows: it never dials an address the requester picked for an unknown ID.
func TestPingReqDoesNotReflectToChosenAddresses(t *testing.T) {
	self, x, a := newIdent(t, "victim"), newIdent(t, "x"), newIdent(t, "a")
	xAddr := netip.MustParseAddrPort("10.0.0.2:7946")
	victim := netip.MustParseAddrPort("203.0.113.9:443")
	unknown := newIdent(t, "nobody")
	tests := []struct {
		name     string
		target   core.NodeID
		wantPing core.Peer // zero: no ping at all
	}{
		{"a ping-req about an unknown ID is answered with a nack, not a ping", unknown.id, core.Peer{}},
		{"a ping-req about a known member pings its known address", x.id, core.Peer{ID: x.id, Addr: xAddr}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := sim.NewClock(testEpoch)
			msgr := &stubMessenger{request: func(context.Context, core.Peer, []byte) ([]byte, error) { return nil, core.ErrNotFound }}
			cfg := testConfig()
			cfg.Signer, cfg.Keys = self.signer, NewStaticKeys(self.signer.Public(), x.signer.Public(), a.signer.Public())
			n, err := New(cfg, msgr, clock)
			require.NoError(t, err)
			defer n.Shutdown()
			xAlive, err := signRecord(x.signer, record{kind: kindAlive, subject: x.id, issuer: x.id, inc: 1, meta: Meta{Addr: xAddr}})
			require.NoError(t, err)
			n.ingest(context.Background(), []*record{xAlive}, false)

			req := &datagram{typ: msgPingReq, seq: 7, target: tc.target, addr: victim, wantNack: true, self: notice{kind: kindAlive, inc: 1}}
			msgr.h.HandleDatagram(core.Peer{ID: a.id}, appendDatagram(nil, req))
			var pings []core.Peer
			for _, to := range msgr.sentTo() {
				require.NotEqual(t, victim, to.Addr, "a datagram went to the address the requester chose")
				if to.ID != a.id {
					pings = append(pings, to)
				}
			}
			if tc.wantPing.ID.IsZero() {
				require.Empty(t, pings)
				require.NotEmpty(t, msgr.sentTo(), "the requester gets a nack")
			} else {
				require.Equal(t, []core.Peer{tc.wantPing}, pings)
			}
		})
	}
}

// A push-pull summary naming members this node does not hold costs it about
// the summary's own size, not several times that: only subjects it holds are
// compared, and scanning for pulls stops once a pull is full.
func TestAHugeSummaryCostsAboutItsOwnSize(t *testing.T) {
	a := newIdent(t, "a")
	r := newRig(t, testConfig(), a)
	q := &request{typ: reqPushPull}
	for i := range 300_000 {
		q.summary = append(q.summary, notice{subject: core.NodeID{byte(i), byte(i >> 8), byte(i >> 16), 9}, kind: kindAlive, inc: 1, digest: digest{byte(i), byte(i >> 8), byte(i >> 16)}})
	}
	payload := appendRequest(nil, q)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := handler{r.node}.HandleRequest(context.Background(), core.Peer{ID: a.id}, payload)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte summary allocated %d bytes", len(payload), allocated)
	require.Less(t, allocated, uint64(3*len(payload)))
}

// A member cannot have this node run more than maxRelaysPerPeer indirect
// probes at once, so ping-reqs do not turn into a stream of pings at another
// member.
func TestPingReqsOfOneMemberAreBounded(t *testing.T) {
	self, x, a := newIdent(t, "victim"), newIdent(t, "x"), newIdent(t, "a")
	clock := sim.NewClock(testEpoch)
	msgr := &stubMessenger{request: func(context.Context, core.Peer, []byte) ([]byte, error) { return nil, core.ErrNotFound }}
	cfg := testConfig()
	cfg.Signer, cfg.Keys = self.signer, NewStaticKeys(self.signer.Public(), x.signer.Public(), a.signer.Public())
	n, err := New(cfg, msgr, clock)
	require.NoError(t, err)
	defer n.Shutdown()
	xAlive, err := signRecord(x.signer, record{kind: kindAlive, subject: x.id, issuer: x.id, inc: 1, meta: Meta{Addr: netip.MustParseAddrPort("10.0.0.2:7946")}})
	require.NoError(t, err)
	n.ingest(context.Background(), []*record{xAlive}, false)

	for seq := range uint32(100) {
		req := &datagram{typ: msgPingReq, seq: seq, target: x.id, self: notice{kind: kindAlive, inc: 1}}
		msgr.h.HandleDatagram(core.Peer{ID: a.id}, appendDatagram(nil, req))
	}
	pings := 0
	for _, to := range msgr.sentTo() {
		if to.ID == x.id {
			pings++
		}
	}
	require.Equal(t, maxRelaysPerPeer, pings, "pings sent to X for 100 ping-reqs")

	// Once those relays end, the member may ask again.
	clock.RunFor(cfg.ProbeTimeout)
	msgr.h.HandleDatagram(core.Peer{ID: a.id}, appendDatagram(nil, &datagram{typ: msgPingReq, seq: 101, target: x.id, self: notice{kind: kindAlive, inc: 1}}))
	n.mu.Lock()
	defer n.mu.Unlock()
	require.Len(t, n.relays, 1)
}
