package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Endpoint is one node's end of the secure transport: it owns one datagram
// socket, accepts sessions from peers and dials sessions to them. It is safe
// for concurrent use.
type Endpoint struct {
	cfg     Config
	conn    core.PacketConn
	local   *localIdentity
	suites  map[uint32]core.Suite
	schemes []core.SignatureScheme
	policy  policy
	chains  *chainCache
	cookies *cookieJar
	limiter *rateLimiter // M1s without a valid cookie
	// provenLimiter is the budget of M1s whose cookie proved their source
	// address, which spoofed M1s therefore cannot spend.
	provenLimiter *rateLimiter
	replays       *nonceCache
	m1s           *m1Pending
	index         *indexTable
	stats         counters
	bufs          sync.Pool
	rand          io.Reader
	tx            *batchWriter // nil when the socket cannot write in batches
	// bulkRecord is the smallest KCP record that goes through tx: half a
	// full one. Smaller records (acknowledgements, short messages) are
	// sent at once.
	bulkRecord int

	jitterMu sync.Mutex
	jitterRN *rand.Rand

	mu         sync.Mutex
	sessions   map[core.NodeID]*Session
	byAddr     map[netip.AddrPort]*Session
	dials      map[netip.AddrPort]*initiatorState
	outbound   map[core.NodeID]*initiatorState // new-session handshakes that know their peer
	initiators map[*initiatorState]struct{}
	responders map[m1Key]*responderState
	closed     bool

	baseCtx    context.Context
	cancelBase context.CancelFunc
	accepts    chan *Session
	jobs       chan hsJob
	closing    chan struct{}
	closeOnce  sync.Once
	wg         sync.WaitGroup
	// policyEpoch counts Revalidate calls: a handshake that checked its
	// peer in an older epoch is checked again once its session exists.
	policyEpoch atomic.Uint64
}

// Listen starts an endpoint on conn, which it owns from now on (Close closes
// it). It starts one read loop, one timer loop and two handshake workers.
func Listen(conn core.PacketConn, cfg Config) (*Endpoint, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Endpoint{
		cfg:           cfg,
		conn:          conn,
		suites:        map[uint32]core.Suite{cfg.Suite.ID(): cfg.Suite},
		policy:        policy{p: cfg.Policy},
		chains:        newChainCache(cfg.Limits.ChainCacheSize),
		limiter:       newRateLimiter(cfg.Limits.HandshakeRate, float64(cfg.Limits.HandshakeBurst), cfg.Limits.MaxRateSources),
		provenLimiter: newRateLimiter(cfg.Limits.HandshakeRate, float64(cfg.Limits.HandshakeBurst), cfg.Limits.MaxRateSources),
		replays:       newNonceCache(replayCacheTTL, replayCacheSize),
		m1s:           newM1Pending(cfg.Limits.MaxPendingM1, cfg.Limits.MaxPendingM1PerIP),
		rand:          &lockedReader{r: cfg.Rand},
		sessions:      make(map[core.NodeID]*Session),
		byAddr:        make(map[netip.AddrPort]*Session),
		dials:         make(map[netip.AddrPort]*initiatorState),
		outbound:      make(map[core.NodeID]*initiatorState),
		initiators:    make(map[*initiatorState]struct{}),
		responders:    make(map[m1Key]*responderState),
		accepts:       make(chan *Session, sessionAcceptQueueLen),
		jobs:          make(chan hsJob, handshakeQueueLen),
		closing:       make(chan struct{}),
	}
	e.schemes = append(e.schemes, cfg.Suite.Signatures...)
	for _, s := range cfg.AcceptSuites {
		e.suites[s.ID()] = s
		e.schemes = append(e.schemes, s.Signatures...)
	}
	e.bulkRecord = (cfg.KCP.MTU + recordHeaderSize + 1 + aeadOverhead(cfg.Suite)) / 2
	e.baseCtx, e.cancelBase = context.WithCancel(context.Background())
	e.bufs.New = func() any { return new(packetBuf) }
	e.index = newIndexTable(e.rand)
	if e.local, err = newLocalIdentity(cfg.Identity, e.schemes); err != nil {
		e.cancelBase()
		return nil, err
	}
	if e.cookies, err = newCookieJar(e.rand, cfg.Now()); err != nil {
		return nil, err
	}
	var seed [32]byte
	if _, err := io.ReadFull(e.rand, seed[:]); err != nil {
		return nil, fmt.Errorf("transport: seed: %w", err)
	}
	e.jitterRN = rand.New(rand.NewChaCha8(seed))
	workers := 2
	e.wg.Add(2 + workers)
	if e.tx = newBatchWriter(e, conn); e.tx != nil {
		e.wg.Add(1)
		go e.tx.loop()
	}
	switch br, gro := newBatchReader(conn); {
	case gro:
		go e.readGROLoop(br)
	case br != nil:
		go e.readBatchLoop(br)
	default:
		go e.readLoop()
	}
	go e.tickLoop()
	for range workers {
		go e.worker()
	}
	return e, nil
}

// ListenUDP opens a UDP socket on addr (e.g. ":7946") and starts an endpoint on it.
func ListenUDP(addr string, cfg Config) (*Endpoint, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %q: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %q: %w", addr, err)
	}
	_ = conn.SetReadBuffer(4 << 20) // best effort: bulk transfers need a deep socket queue
	_ = conn.SetWriteBuffer(4 << 20)
	e, err := Listen(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return e, nil
}

// LocalAddr returns the socket's address.
func (e *Endpoint) LocalAddr() net.Addr { return e.conn.LocalAddr() }

// NodeID returns this endpoint's identity.
func (e *Endpoint) NodeID() core.NodeID { return e.local.id }

// Metrics returns a snapshot of the endpoint's counters.
func (e *Endpoint) Metrics() Metrics {
	m := e.stats.snapshot()
	e.mu.Lock()
	m.Sessions = len(e.sessions)
	m.Handshakes = len(e.initiators) + len(e.responders)
	e.mu.Unlock()
	return m
}

// Session returns the established session with a peer, if any.
func (e *Endpoint) Session(id core.NodeID) (*Session, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.sessions[id]
	return s, ok
}

// Sessions returns the established sessions.
func (e *Endpoint) Sessions() []*Session {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Session, 0, len(e.sessions))
	for _, s := range e.sessions {
		out = append(out, s)
	}
	return out
}

// Accept returns the next session a peer initiated (including one that a
// concurrent Dial of ours resolved to).
func (e *Endpoint) Accept(ctx context.Context) (*Session, error) {
	select {
	case s := <-e.accepts:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-e.closing:
		return nil, fmt.Errorf("transport: accept: %w", core.ErrClosed)
	}
}

// Close closes every session (telling each peer), abandons handshakes in
// progress, closes the socket and waits for every goroutine to stop.
func (e *Endpoint) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		sessions := make([]*Session, 0, len(e.sessions))
		for _, s := range e.sessions {
			sessions = append(sessions, s)
		}
		inits := make([]*initiatorState, 0, len(e.initiators))
		for st := range e.initiators {
			inits = append(inits, st)
		}
		e.mu.Unlock()
		for _, s := range sessions {
			s.closeWith(ErrSessionClosed, true)
		}
		for _, st := range inits {
			st.fail(&HandshakeError{Reason: ReasonInternal, Peer: st.addr.String(), Err: fmt.Errorf("endpoint closed: %w", core.ErrClosed)})
		}
		close(e.closing)
		e.cancelBase()
		e.conn.Close()
	})
	e.wg.Wait()
	return nil
}

// now reads the configured clock.
func (e *Endpoint) now() time.Time { return e.cfg.Now() }

// jitter returns d scaled by a random factor in [0.75, 1.25).
func (e *Endpoint) jitter(d time.Duration) time.Duration {
	e.jitterMu.Lock()
	f := 0.75 + e.jitterRN.Float64()/2
	e.jitterMu.Unlock()
	return time.Duration(float64(d) * f)
}

func (e *Endpoint) getBuf() *packetBuf  { return e.bufs.Get().(*packetBuf) }
func (e *Endpoint) putBuf(b *packetBuf) { e.bufs.Put(b) }

// send writes one datagram; loss is UDP's business, so errors are only counted.
func (e *Endpoint) send(b []byte, to net.Addr) error {
	n, err := e.conn.WriteTo(b, to)
	if err != nil {
		return err
	}
	e.stats.packetsOut.Add(1)
	e.stats.bytesOut.Add(uint64(n))
	return nil
}

// sendAll writes datagrams and returns the bytes written.
func (e *Endpoint) sendAll(ds [][]byte, to net.Addr) int {
	n := 0
	for _, d := range ds {
		if e.send(d, to) == nil {
			n += len(d)
		}
	}
	return n
}

// isClosed reports whether Close has begun.
func (e *Endpoint) isClosed() bool {
	select {
	case <-e.closing:
		return true
	default:
		return false
	}
}

// lockedReader serializes reads from a randomness source that may not be
// safe for concurrent use.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// addrPortOf converts a socket address to its comparable form.
func addrPortOf(a net.Addr) (netip.AddrPort, error) {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	if a == nil {
		return netip.AddrPort{}, errors.New("nil address")
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// readRand fills b from the endpoint's randomness source.
func (e *Endpoint) readRand(b []byte) error {
	_, err := io.ReadFull(e.rand, b)
	return err
}
