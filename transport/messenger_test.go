package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
)

// msgRecorder is a core.MessageHandler that records what it receives and
// answers requests with reply(payload).
type msgRecorder struct {
	mu     sync.Mutex
	dgrams []msgReceived
	reqs   []msgReceived
	reply  func(ctx context.Context, payload []byte) ([]byte, error)
}

type msgReceived struct {
	from    core.Peer
	payload []byte
}

func (r *msgRecorder) HandleDatagram(from core.Peer, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dgrams = append(r.dgrams, msgReceived{from, payload})
}

func (r *msgRecorder) HandleRequest(ctx context.Context, from core.Peer, payload []byte) ([]byte, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, msgReceived{from, payload})
	reply := r.reply
	r.mu.Unlock()
	if reply == nil {
		return append([]byte("re: "), payload...), nil
	}
	return reply(ctx, payload)
}

func (r *msgRecorder) datagrams() []msgReceived {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]msgReceived(nil), r.dgrams...)
}

// messengerPair is two endpoints with messengers and recorders on a fake network.
type messengerPair struct {
	*pair
	ma, mb *Messenger
	ra, rb *msgRecorder
}

func newMessengerPair(t *testing.T, cfg MessengerConfig) *messengerPair {
	t.Helper()
	p := &messengerPair{pair: newPair(t, nil), ra: &msgRecorder{}, rb: &msgRecorder{}}
	p.ma, p.mb = NewMessenger(p.a, cfg), NewMessenger(p.b, cfg)
	t.Cleanup(func() { p.ma.Close(); p.mb.Close() })
	p.ma.Handle(p.ra)
	p.mb.Handle(p.rb)
	return p
}

func (p *messengerPair) peerB() core.Peer {
	return core.Peer{ID: p.b.NodeID(), Addr: netip.MustParseAddrPort(addrB)}
}

func TestMessengerDeliversWithAuthenticatedSender(t *testing.T) {
	p := newMessengerPair(t, MessengerConfig{})
	ctx := ctxT(t, 10*time.Second)

	// No session yet: the datagram is staged, the session dialed, then it goes out.
	require.NoError(t, p.ma.SendDatagram(ctx, p.peerB(), []byte("ping")))
	eventually(t, 5*time.Second, func() bool { return len(p.rb.datagrams()) == 1 }, "datagram not delivered")
	got := p.rb.datagrams()[0]
	assert.Equal(t, "ping", string(got.payload))
	assert.Equal(t, p.a.NodeID(), got.from.ID, "handler must see the authenticated sender")
	assert.Equal(t, netip.MustParseAddrPort(addrA), got.from.Addr)

	reply, err := p.ma.Request(ctx, p.peerB(), []byte("state?"))
	require.NoError(t, err)
	assert.Equal(t, "re: state?", string(reply))

	// The peer answers over the session a dialed: b reaches a by ID alone.
	reply, err = p.mb.Request(ctx, core.Peer{ID: p.a.NodeID()}, []byte("back"))
	require.NoError(t, err)
	assert.Equal(t, "re: back", string(reply))
	require.NoError(t, p.mb.SendDatagram(ctx, core.Peer{ID: p.a.NodeID()}, []byte("pong")))
	eventually(t, 5*time.Second, func() bool { return len(p.ra.datagrams()) == 1 }, "datagram back not delivered")
	assert.Equal(t, p.b.NodeID(), p.ra.datagrams()[0].from.ID)

	st := p.ma.Stats()
	assert.Equal(t, uint64(1), st.DatagramsSent)
	assert.Equal(t, uint64(1), st.RequestsSent)
	assert.Equal(t, uint64(1), st.RequestsServed)
	assert.Zero(t, st.DatagramsDropped)
}

func TestMessengerRequestByAddressLearnsTheID(t *testing.T) {
	p := newMessengerPair(t, MessengerConfig{})
	reply, err := p.ma.Request(ctxT(t, 10*time.Second), core.Peer{Addr: netip.MustParseAddrPort(addrB)}, []byte("join"))
	require.NoError(t, err)
	assert.Equal(t, "re: join", string(reply))
	p.rb.mu.Lock()
	defer p.rb.mu.Unlock()
	require.Len(t, p.rb.reqs, 1)
	assert.Equal(t, p.a.NodeID(), p.rb.reqs[0].from.ID)
}

// An address that authenticates as another node than the one named is
// refused: nothing meant for X reaches Y because Y answers at X's address.
func TestMessengerRefusesWrongPeerAtAddress(t *testing.T) {
	p := newMessengerPair(t, MessengerConfig{})
	impostor := core.Peer{ID: core.NodeID{1, 2, 3}, Addr: netip.MustParseAddrPort(addrB)}
	ctx := ctxT(t, 10*time.Second)

	_, err := p.ma.Request(ctx, impostor, []byte("secret"))
	require.ErrorIs(t, err, ErrWrongPeer)
	require.ErrorIs(t, err, core.ErrVerification)

	require.NoError(t, p.ma.SendDatagram(ctx, impostor, []byte("secret")))
	eventually(t, 5*time.Second, func() bool { return p.ma.Stats().DatagramsDropped == 1 }, "staged datagram not dropped")
	p.rb.mu.Lock()
	defer p.rb.mu.Unlock()
	assert.Empty(t, p.rb.reqs)
	assert.Empty(t, p.rb.dgrams)
}

// A node whose certificate the policy refuses delivers nothing.
func TestMessengerUntrustedSenderDeliversNothing(t *testing.T) {
	p := newMessengerPair(t, MessengerConfig{})
	other := newTestPKI(t, "rogue")
	conn, err := p.net.Listen("10.0.0.9:7000")
	require.NoError(t, err)
	rogue, err := Listen(conn, testConfig(other.node(t, "rogue"), PeerPolicy{Trust: p.pki.trust()}, p.clk))
	require.NoError(t, err)
	t.Cleanup(func() { rogue.Close() })
	mr := NewMessenger(rogue, MessengerConfig{DialTimeout: time.Second})
	t.Cleanup(func() { mr.Close() })
	mr.Handle(&msgRecorder{})

	_, err = mr.Request(ctxT(t, 5*time.Second), p.peerB(), []byte("let me in"))
	require.ErrorIs(t, err, ErrRefusedByPeer)
	require.NoError(t, mr.SendDatagram(context.Background(), p.peerB(), []byte("let me in")))
	eventually(t, 5*time.Second, func() bool { return mr.Stats().DatagramsDropped == 1 }, "datagram should be dropped after the refused dial")
	assert.Empty(t, p.rb.datagrams())
	p.rb.mu.Lock()
	defer p.rb.mu.Unlock()
	assert.Empty(t, p.rb.reqs)
}

func TestMessengerRequestErrors(t *testing.T) {
	p := newMessengerPair(t, MessengerConfig{MaxRequestSize: 1 << 10})
	p.rb.reply = func(ctx context.Context, payload []byte) ([]byte, error) {
		switch string(payload) {
		case "fail":
			return nil, fmt.Errorf("no such record: %w", core.ErrNotFound)
		case "huge":
			return make([]byte, 2<<10), nil
		case "slow":
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return []byte("ok"), nil
	}
	ctx := ctxT(t, 10*time.Second)
	for _, tc := range []struct {
		rule    string
		payload []byte
		timeout time.Duration
		want    error
		text    string
	}{
		{"a handler error reaches the requester as ErrRemote", []byte("fail"), 0, ErrRemote, "no such record"},
		{"a reply over the size limit is refused by the server", []byte("huge"), 0, ErrRemote, "exceeds"},
		{"a request over the size limit is refused by the requester", make([]byte, 2<<10), 0, ErrMessageTooLarge, ""},
		{"the requester's deadline ends a slow request", []byte("slow"), 200 * time.Millisecond, context.DeadlineExceeded, ""},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			rctx := ctx
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				rctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			start := time.Now()
			_, err := p.ma.Request(rctx, p.peerB(), tc.payload)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.text)
			assert.Less(t, time.Since(start), 3*time.Second)
		})
	}
	// The session survives every failure.
	reply, err := p.ma.Request(ctx, p.peerB(), []byte("again"))
	require.NoError(t, err)
	assert.Equal(t, "ok", string(reply))
}

func TestMessengerOversizedDatagramRefused(t *testing.T) {
	p := newMessengerPair(t, MessengerConfig{})
	limit := p.ma.MaxDatagramSize()
	assert.Equal(t, maxDatagram-recordHeaderSize-1-16, limit, "AES-GCM's 16-byte tag")
	err := p.ma.SendDatagram(context.Background(), p.peerB(), make([]byte, limit+1))
	require.ErrorIs(t, err, ErrMessageTooLarge)
}

// Datagrams wait in the sessions' queues until a handler is installed.
func TestMessengerHoldsMessagesUntilHandle(t *testing.T) {
	p := newPair(t, nil)
	ma, mb := NewMessenger(p.a, MessengerConfig{}), NewMessenger(p.b, MessengerConfig{})
	t.Cleanup(func() { ma.Close(); mb.Close() })
	ma.Handle(&msgRecorder{})
	require.NoError(t, ma.SendDatagram(context.Background(), core.Peer{ID: p.b.NodeID(), Addr: netip.MustParseAddrPort(addrB)}, []byte("early")))
	eventually(t, 5*time.Second, func() bool { return ma.Stats().DatagramsSent == 1 }, "datagram not sent")
	time.Sleep(50 * time.Millisecond)
	rb := &msgRecorder{}
	mb.Handle(rb)
	eventually(t, 5*time.Second, func() bool { return len(rb.datagrams()) == 1 }, "held datagram not delivered")
}

// While a dial is in flight, at most StagedDatagrams wait; the oldest go first.
func TestMessengerStagingDropsOldest(t *testing.T) {
	p := newMessengerPair(t, MessengerConfig{StagedDatagrams: 4})
	p.net.SetFaults(addrA, addrB, fakenet.Faults{Delay: 100 * time.Millisecond})
	for i := range 10 {
		require.NoError(t, p.ma.SendDatagram(context.Background(), p.peerB(), []byte{byte(i)}))
	}
	eventually(t, 5*time.Second, func() bool { return len(p.rb.datagrams()) == 4 }, "staged datagrams not delivered")
	var got []byte
	for _, d := range p.rb.datagrams() {
		got = append(got, d.payload...)
	}
	assert.ElementsMatch(t, []byte{6, 7, 8, 9}, got)
	assert.Equal(t, uint64(6), p.ma.Stats().DatagramsDropped)
}

func TestMessengerClosed(t *testing.T) {
	p := newMessengerPair(t, MessengerConfig{})
	_, err := p.ma.Request(ctxT(t, 5*time.Second), p.peerB(), []byte("x"))
	require.NoError(t, err)
	require.NoError(t, p.ma.Close())
	_, err = p.ma.Request(ctxT(t, 5*time.Second), p.peerB(), []byte("x"))
	require.ErrorIs(t, err, core.ErrClosed)
	err = p.ma.SendDatagram(context.Background(), core.Peer{Addr: netip.MustParseAddrPort("10.0.0.7:1")}, []byte("x"))
	require.ErrorIs(t, err, core.ErrClosed)
	// Closing the messenger leaves the session to the endpoint.
	_, ok := p.a.Session(p.b.NodeID())
	assert.True(t, ok)
}

func TestMessengerNoRoute(t *testing.T) {
	p := newMessengerPair(t, MessengerConfig{})
	_, err := p.ma.Request(ctxT(t, time.Second), core.Peer{ID: core.NodeID{9}}, nil)
	require.ErrorIs(t, err, core.ErrNotFound)
	require.ErrorIs(t, p.ma.SendDatagram(context.Background(), core.Peer{ID: core.NodeID{9}}, nil), core.ErrNotFound)
}

func TestMessengerFrames(t *testing.T) {
	for _, tc := range []struct {
		rule  string
		wire  []byte
		limit int
		want  []byte
		err   error
	}{
		{"a reply round-trips", append([]byte{replyOK, 0, 0, 0, 3}, "abc"...), 10, []byte("abc"), nil},
		{"an empty reply is fine", []byte{replyOK, 0, 0, 0, 0}, 10, []byte{}, nil},
		{"a length over the limit is refused before the body", []byte{replyOK, 0xff, 0xff, 0xff, 0xff}, 10, nil, ErrMessageTooLarge},
		{"a short body is an unexpected EOF", append([]byte{replyOK, 0, 0, 0, 9}, "abc"...), 10, nil, errors.New("unexpected EOF")},
		{"an unknown status is invalid", []byte{7, 0, 0, 0, 0}, 10, nil, core.ErrInvalidInput},
		{"an error reply wraps ErrRemote", append([]byte{replyError, 0, 0, 0, 4}, "nope"...), 10, nil, ErrRemote},
		{"error text must be UTF-8", []byte{replyError, 0, 0, 0, 1, 0xff}, 10, nil, core.ErrInvalidInput},
		{"error text is bounded", []byte{replyError, 0, 0, 0x10, 0}, 1 << 20, nil, ErrMessageTooLarge},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			got, err := readReplyFrame(bytes.NewReader(tc.wire), tc.limit)
			switch {
			case tc.err == nil:
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
			case errors.Is(tc.err, core.ErrInvalidInput) || errors.Is(tc.err, ErrRemote) || errors.Is(tc.err, ErrMessageTooLarge):
				require.ErrorIs(t, err, tc.err)
			default:
				require.ErrorContains(t, err, tc.err.Error())
			}
		})
	}
	var b bytes.Buffer
	require.NoError(t, writeErrorFrame(&b, errors.New(strings.Repeat("é", maxErrorText))))
	_, err := readReplyFrame(&b, 0)
	require.ErrorIs(t, err, ErrRemote, "a long error is cut on a rune boundary and still reads back")
}

func FuzzMessengerFrames(f *testing.F) {
	var b bytes.Buffer
	_ = writeReplyFrame(&b, []byte("reply"))
	f.Add(b.Bytes())
	b.Reset()
	_ = writeErrorFrame(&b, errors.New("handler failed"))
	f.Add(b.Bytes())
	f.Add([]byte{0, 0, 0, 0, 5, 1, 2})
	const limit = 1 << 12
	f.Fuzz(func(t *testing.T, wire []byte) {
		if body, err := readRequestFrame(bytes.NewReader(wire), limit); err == nil {
			var out bytes.Buffer
			if writeRequestFrame(&out, body) != nil || !bytes.Equal(out.Bytes(), wire[:4+len(body)]) {
				t.Fatal("request frame did not round-trip")
			}
		}
		body, err := readReplyFrame(bytes.NewReader(wire), limit)
		if err != nil {
			return
		}
		if len(body) > limit {
			t.Fatalf("accepted %d bytes over the limit %d", len(body), limit)
		}
		var out bytes.Buffer
		if writeReplyFrame(&out, body) != nil || !bytes.Equal(out.Bytes(), wire[:5+len(body)]) {
			t.Fatal("reply frame did not round-trip")
		}
	})
}

// A datagram for one node never rides a dial staged for another at the same
// address: whoever answers there receives only what was meant for it.
func TestMessengerStagedDatagramsGoOnlyToTheirNode(t *testing.T) {
	p := newMessengerPair(t, MessengerConfig{})
	p.net.SetFaults(addrA, addrB, fakenet.Faults{Delay: 100 * time.Millisecond})
	other := core.Peer{ID: core.NodeID{1, 2, 3}, Addr: netip.MustParseAddrPort(addrB)}
	require.NoError(t, p.ma.SendDatagram(context.Background(), p.peerB(), []byte("for b")))
	require.NoError(t, p.ma.SendDatagram(context.Background(), other, []byte("for another node")))
	eventually(t, 5*time.Second, func() bool { return len(p.rb.datagrams()) >= 1 }, "b's datagram not delivered")
	time.Sleep(100 * time.Millisecond)
	var got []string
	for _, d := range p.rb.datagrams() {
		got = append(got, string(d.payload))
	}
	assert.Equal(t, []string{"for b"}, got, "b received a datagram meant for another node")
	eventually(t, 5*time.Second, func() bool { return p.ma.Stats().DatagramsDropped == 1 }, "the other node's datagram was not dropped")
}
