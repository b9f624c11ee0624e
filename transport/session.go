package transport

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xtaci/kcp-go/v5"
	"github.com/xtaci/smux"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

// Session is an authenticated, encrypted association with one peer: reliable
// ordered messages (Send/Receive), multiplexed streams (OpenStream,
// AcceptStream) and unreliable datagrams, all over one KCP conversation
// inside AEAD records. It is safe for concurrent use.
type Session struct {
	e           *Endpoint
	peer        *peerChain
	id          [sessionIDSize]byte
	conv        uint32
	initiator   bool // this side initiated the session's first handshake
	suite       core.Suite
	established time.Time // guarded by e.mu
	maxDatagram int

	current  atomic.Pointer[keypair]
	remote   atomic.Pointer[remoteAddr]
	lastRecv atomic.Int64 // UnixNano of the last authenticated record
	lastSent atomic.Int64 // UnixNano of the last record sent

	mu        sync.Mutex
	previous  *keypair // still accepted until its reject time
	rekeying  *initiatorState
	rekeyNext time.Time
	dupM3     *reassembly
	// challengeNext and challengeRTO schedule path challenges while the
	// peer's current address is unvalidated (roaming.go).
	challengeNext time.Time
	challengeRTO  time.Duration
	kcp           *kcp.UDPSession
	mux           *smux.Session

	vconn    *kcpConn
	out      *smux.Stream // our message stream; set before ready closes
	sendSem  chan struct{}
	sendBuf  []byte
	messages chan []byte
	// queued is the bytes of received messages not yet taken by Receive;
	// the message reader waits (and flow control holds the peer back)
	// while it is over the session's receive buffer. room wakes it.
	queued    atomic.Int64
	room      chan struct{}
	datagrams chan []byte
	streams   chan *smux.Stream
	ready     chan struct{}

	done      chan struct{}
	closeOnce sync.Once
	err       error
}

// newSession builds a session (not yet started) for a verified peer.
func (e *Endpoint) newSession(pc *peerChain, k trafficKeys, initiator bool, suite core.Suite, ap netip.AddrPort, addr net.Addr) *Session {
	s := &Session{
		e: e, peer: pc, id: k.sessionID, conv: k.conv, initiator: initiator, suite: suite,
		maxDatagram: maxDatagram - recordHeaderSize - 1 - aeadOverhead(suite),
		sendSem:     make(chan struct{}, 1),
		messages:    make(chan []byte, messageQueueLen),
		room:        make(chan struct{}, 1),
		datagrams:   make(chan []byte, datagramQueueLen),
		streams:     make(chan *smux.Stream, acceptQueueLen),
		ready:       make(chan struct{}),
		done:        make(chan struct{}),
	}
	s.vconn = newKCPConn(s)
	s.remote.Store(provenPath(ap, addr))
	now := e.now().UnixNano()
	s.lastRecv.Store(now)
	s.lastSent.Store(now)
	return s
}

// start runs KCP and the multiplexer over the session's records and opens
// this side's message stream; inbound sessions then go to Accept.
func (s *Session) start(inbound bool) {
	kc := s.e.cfg.KCP
	k, err := kcp.NewConn3(s.conv, virtualAddr{}, nil, 0, 0, s.vconn)
	if err != nil {
		s.closeWith(fmt.Errorf("transport: kcp: %w", err), true)
		return
	}
	k.SetNoDelay(kc.NoDelay, kc.Interval, kc.Resend, kc.NoCongestion)
	k.SetWindowSize(kc.SendWindow, kc.ReceiveWindow)
	k.SetMtu(kc.MTU)
	k.SetStreamMode(true)
	k.SetWriteDelay(false)
	k.SetACKNoDelay(kc.AckNoDelay)
	mc := &smux.Config{
		Version: 2, KeepAliveDisabled: true, MaxFrameSize: kc.FrameSize,
		MaxReceiveBuffer: kc.SessionBuffer, MaxStreamBuffer: kc.StreamBuffer,
	}
	var mux *smux.Session
	if s.initiator {
		mux, err = smux.Client(k, mc)
	} else {
		mux, err = smux.Server(k, mc)
	}
	if err != nil {
		k.Close()
		s.closeWith(fmt.Errorf("transport: multiplexer: %w", err), true)
		return
	}
	s.mu.Lock()
	if s.isDone() {
		s.mu.Unlock()
		mux.Close()
		return
	}
	s.kcp, s.mux = k, mux
	s.mu.Unlock()
	s.e.wg.Add(2)
	go s.acceptLoop()
	go s.openMessageStream(inbound)
}

// openMessageStream opens the stream that carries this side's messages (the
// first stream each side opens) and marks the session ready.
func (s *Session) openMessageStream(inbound bool) {
	defer s.e.wg.Done()
	st, err := s.mux.OpenStream()
	if err != nil {
		s.closeWith(fmt.Errorf("transport: open message stream: %w", err), true)
		return
	}
	s.out = st
	close(s.ready)
	if inbound {
		select {
		case s.e.accepts <- s:
		default:
			s.e.cfg.Logger.Warn("transport: accept queue full; session reachable through Dial only", "peer", s.peer.id.Short())
		}
	}
}

// acceptLoop takes the peer's streams: the first is its message stream, the
// rest go to AcceptStream (refused when that backlog is full, so a peer
// cannot stall the session by opening streams nobody accepts).
func (s *Session) acceptLoop() {
	defer s.e.wg.Done()
	first := true
	for {
		st, err := s.mux.AcceptStream()
		if err != nil {
			s.closeWith(fmt.Errorf("transport: stream multiplexer: %w", err), true)
			return
		}
		if first {
			first = false
			s.e.wg.Add(1)
			go s.messageLoop(st)
			continue
		}
		select {
		case s.streams <- st:
		default:
			st.Close()
		}
	}
}

// messageLoop reads the peer's length-prefixed messages. The messages
// queued for Receive are bounded in bytes by the session's receive buffer
// (or one message, if larger): beyond it the loop stops reading, so the
// multiplexer's flow control holds the peer back instead of memory growing
// with every unread message.
func (s *Session) messageLoop(st *smux.Stream) {
	defer s.e.wg.Done()
	budget := int64(max(s.e.cfg.KCP.SessionBuffer, s.e.cfg.Limits.MaxMessageSize))
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(st, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > uint32(s.e.cfg.Limits.MaxMessageSize) {
			s.closeWith(fmt.Errorf("transport: peer sent a %d-byte message: %w", n, ErrMessageTooLarge), true)
			return
		}
		for q := s.queued.Load(); q > 0 && q+int64(n) > budget; q = s.queued.Load() {
			select {
			case <-s.room:
			case <-s.done:
				return
			}
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(st, msg); err != nil {
			return
		}
		s.queued.Add(int64(n))
		select {
		case s.messages <- msg:
		case <-s.done:
			return
		}
	}
}

// PeerID returns the peer's NodeID (the hash of its verified key).
func (s *Session) PeerID() core.NodeID { return s.peer.id }

// PeerChain returns the peer's certificate chain, leaf first, as verified.
func (s *Session) PeerChain() []*pki.Certificate {
	return append([]*pki.Certificate(nil), s.peer.certs...)
}

// RemoteAddr returns the peer's current address (it changes when the peer roams).
func (s *Session) RemoteAddr() net.Addr { return s.remote.Load().addr }

// LocalAddr returns the endpoint's address.
func (s *Session) LocalAddr() net.Addr { return s.e.LocalAddr() }

func (s *Session) remoteAddrPort() netip.AddrPort { return s.remote.Load().ap }

// Done is closed when the session ends; Err then says why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended (wrapping ErrSessionClosed,
// ErrPeerClosed, ErrSessionTimeout, ...), or nil while it is open.
func (s *Session) Err() error {
	if !s.isDone() {
		return nil
	}
	return s.err
}

func (s *Session) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// live returns s, or the reason it ended.
func (s *Session) live() (*Session, error) {
	if s.isDone() {
		return nil, s.err
	}
	return s, nil
}

// awaitReady returns s once its message stream is open.
func (s *Session) awaitReady(ctx context.Context) (*Session, error) {
	if s.isDone() {
		return nil, s.err
	}
	select {
	case <-s.ready:
		return s, nil
	case <-s.done:
		return nil, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close ends the session at once, telling the peer with an authenticated
// close record; its streams fail with an error wrapping ErrSessionClosed.
// Data not yet acknowledged by the peer may be lost: close streams first
// to flush them.
func (s *Session) Close() error {
	s.closeWith(ErrSessionClosed, true)
	return nil
}

// closeWith tears the session down once, for reason err.
func (s *Session) closeWith(err error, notify bool) {
	s.closeOnce.Do(func() {
		e := s.e
		if notify {
			for range closeRepeats {
				s.sendRecord(contentClose, nil)
			}
		}
		s.err = err
		close(s.done)
		e.mu.Lock()
		e.unregisterLocked(s)
		e.mu.Unlock()
		s.mu.Lock() // after done is closed: rotate installs no keys from here on
		prev, rk, mux, cur := s.previous, s.rekeying, s.mux, s.current.Load()
		s.mu.Unlock()
		if kp := cur; kp != nil {
			e.index.removeKeypair(kp.localIndex, kp)
		}
		if prev != nil {
			e.index.removeKeypair(prev.localIndex, prev)
		}
		if rk != nil {
			rk.fail(&HandshakeError{Reason: ReasonInternal, Err: fmt.Errorf("session ended: %w", err)})
		}
		if mux != nil {
			mux.Close() // closes the KCP session too
		}
		s.vconn.Close()
		e.stats.sessionsClosed.Add(1)
		e.cfg.Logger.Info("transport: session closed", "peer", s.peer.id.Short(), "reason", err)
	})
}

// sendRecord seals payload under the current keys and sends it.
func (s *Session) sendRecord(ct contentType, payload []byte) error {
	kp := s.current.Load()
	if kp == nil {
		return fmt.Errorf("transport: session has no keys: %w", core.ErrClosed)
	}
	return s.sendWith(kp, ct, payload)
}

// sendWith seals payload under kp and sends it to the peer's address. Large
// KCP records (bulk data) go through the batch writer when the socket has
// one; small ones (acknowledgements, short messages) are sent at once,
// sparing latency-bound traffic the hand-off to the writer. KCP orders
// what arrives out of order, and the replay window takes it.
func (s *Session) sendWith(kp *keypair, ct contentType, payload []byte) error {
	buf := s.e.getBuf()
	rec, err := kp.seal(buf, ct, payload)
	if err != nil {
		s.e.putBuf(buf)
		return err
	}
	ra := s.remote.Load()
	if !ra.maysend(len(rec)) {
		s.e.stats.amplificationBlocks.Add(1)
		s.e.putBuf(buf)
		return nil // like a lost datagram: KCP retransmits once the path is validated
	}
	s.lastSent.Store(s.e.now().UnixNano())
	if ct == contentKCP && s.e.tx != nil && len(rec) >= s.e.bulkRecord {
		s.e.tx.enqueue(txPacket{buf: buf, n: len(rec), ap: ra.ap, addr: ra.addr})
		return nil
	}
	err = s.e.send(rec, ra.addr)
	s.e.putBuf(buf)
	return err
}

// rotate makes kp the sending keys; the old ones stay receivable until their
// reject time and the ones before them are dropped. On a session that has
// ended (a rekey that raced its close) kp is removed instead.
func (s *Session) rotate(kp *keypair) {
	s.mu.Lock()
	if s.isDone() {
		s.mu.Unlock()
		s.e.index.removeKeypair(kp.localIndex, kp)
		return
	}
	old := s.current.Swap(kp)
	prev := s.previous
	if old != kp {
		s.previous = old
	}
	s.mu.Unlock()
	if prev != nil && prev != kp {
		s.e.index.removeKeypair(prev.localIndex, prev)
	}
}

// reassembleDuplicateM3 collects a retransmitted M3 (read loop).
func (s *Session) reassembleDuplicateM3(f fragment, n int) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dupM3 == nil || s.dupM3.total != f.total {
		s.dupM3 = newReassembly(f, s.e.now())
	}
	msg, err := s.dupM3.add(f, n)
	if err != nil || msg == nil {
		if err != nil {
			s.dupM3 = nil
		}
		return nil, false
	}
	s.dupM3 = nil
	return msg, true
}
