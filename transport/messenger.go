package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Messenger defaults, used when the MessengerConfig field is zero.
const (
	// DefaultServeTimeout bounds serving one inbound request: reading it,
	// the handler's work and writing the reply.
	DefaultServeTimeout = 10 * time.Second
	// DefaultMaxRequestSize bounds a request or reply body. A full-state
	// exchange of 64 members with ML-DSA-65 records and certificate chains
	// is about 1 MiB.
	DefaultMaxRequestSize = 16 << 20
	// DefaultMaxInflight bounds the requests one peer can have served at
	// once; further streams wait in the session's backlog.
	DefaultMaxInflight = 16
	// DefaultStagedDatagrams bounds the datagrams held for a peer while its
	// session is being dialed; the oldest are dropped first.
	DefaultStagedDatagrams = 16
)

// ErrWrongPeer reports that the node at a peer's address authenticated as
// another NodeID than the one asked for; it wraps core.ErrVerification.
var ErrWrongPeer = fmt.Errorf("transport: messenger: address answered with another node: %w", core.ErrVerification)

// ErrRemote reports a request the peer's handler failed; the error text is
// the peer's.
var ErrRemote = errors.New("transport: messenger: peer failed the request")

// MessengerConfig tunes NewMessenger; zero fields take the defaults above.
type MessengerConfig struct {
	// ServeTimeout bounds serving one inbound request (DefaultServeTimeout).
	ServeTimeout time.Duration
	// DialTimeout bounds a dial that SendDatagram starts in the background
	// for a peer without a session (the endpoint's HandshakeTimeout).
	DialTimeout time.Duration
	// MaxRequestSize bounds request and reply bodies (DefaultMaxRequestSize).
	MaxRequestSize int
	// MaxInflight bounds concurrent inbound requests per session
	// (DefaultMaxInflight).
	MaxInflight int
	// StagedDatagrams bounds datagrams held per peer while dialing
	// (DefaultStagedDatagrams).
	StagedDatagrams int
	// Logger receives dial failures and refused requests at debug level
	// (default: the endpoint's logger).
	Logger *slog.Logger
}

// MessengerStats counts a Messenger's traffic, for metrics.
type MessengerStats struct {
	// DatagramsSent and DatagramsReceived count datagrams handed to and
	// from sessions.
	DatagramsSent, DatagramsReceived uint64
	// DatagramsDropped counts datagrams dropped before a session existed:
	// staging overflow, a failed dial or a peer of the wrong identity.
	DatagramsDropped uint64
	// RequestsSent counts requests made; RequestsFailed those that got no
	// reply (a remote error counts as a reply).
	RequestsSent, RequestsFailed uint64
	// RequestsServed counts inbound requests answered; RequestsDropped
	// inbound streams that failed before an answer (bad frame, timeout).
	RequestsServed, RequestsDropped uint64
}

// Messenger is core.Messenger over an Endpoint, which is how membership
// reaches peers through the secure transport. A datagram goes out as one
// session datagram (Session.SendDatagram); a request opens a stream, writes
// the request, reads the reply and closes the stream (framing in
// messenger_frame.go). Handlers receive the peer's authenticated NodeID:
// every message arrives over a session whose peer proved its key in the
// handshake and passed the endpoint's PeerPolicy.
//
// A peer is found by its NodeID when a session exists, else dialed at its
// address. SendDatagram never waits for a handshake: it holds a few
// datagrams for the peer, dials in the background and sends them once the
// session is up (as WireGuard stages packets), so a slow or dead peer does
// not delay datagrams to the others. Request dials within its context.
//
// The Messenger is the consumer of Endpoint.Accept; it serves every
// session, accepted or dialed, until Close. It does not close the endpoint.
type Messenger struct {
	e   *Endpoint
	cfg MessengerConfig
	log *slog.Logger

	handler   atomic.Pointer[core.MessageHandler]
	ready     chan struct{} // closed by the first Handle
	readyOnce sync.Once

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	sessions map[*Session]struct{}
	staged   map[core.Peer]*stagedDial // by address and the NodeID wanted there

	stats struct {
		dgramsSent, dgramsReceived, dgramsDropped atomic.Uint64
		requestsSent, requestsFailed              atomic.Uint64
		requestsServed, requestsDropped           atomic.Uint64
	}
}

// stagedDial is a background dial and the datagrams waiting for it. Dials
// are staged per address and wanted NodeID, so a datagram for one node never
// rides a dial that another node's identity may answer.
type stagedDial struct {
	want   core.NodeID // the peer expected at the address (zero: any)
	dgrams [][]byte
}

var _ core.Messenger = (*Messenger)(nil)

// NewMessenger serves e's sessions as a core.Messenger. It starts taking
// sessions from e.Accept at once; messages are held in the sessions'
// queues until Handle installs a handler.
func NewMessenger(e *Endpoint, cfg MessengerConfig) *Messenger {
	if cfg.ServeTimeout <= 0 {
		cfg.ServeTimeout = DefaultServeTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = e.cfg.HandshakeTimeout
	}
	if cfg.MaxRequestSize <= 0 {
		cfg.MaxRequestSize = DefaultMaxRequestSize
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	if cfg.StagedDatagrams <= 0 {
		cfg.StagedDatagrams = DefaultStagedDatagrams
	}
	if cfg.Logger == nil {
		cfg.Logger = e.cfg.Logger
	}
	m := &Messenger{
		e: e, cfg: cfg, log: cfg.Logger,
		ready:    make(chan struct{}),
		sessions: make(map[*Session]struct{}),
		staged:   make(map[core.Peer]*stagedDial),
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.wg.Add(1)
	go m.acceptLoop()
	return m
}

// Handle installs the handler for inbound datagrams and requests.
func (m *Messenger) Handle(h core.MessageHandler) {
	m.handler.Store(&h)
	m.readyOnce.Do(func() { close(m.ready) })
}

// MaxDatagramSize is the largest payload SendDatagram takes: 1200 bytes on
// the wire less the record header and the AEAD tag of the endpoint's suites.
func (m *Messenger) MaxDatagramSize() int {
	size := maxDatagram - recordHeaderSize - 1 - aeadOverhead(m.e.cfg.Suite)
	for _, s := range m.e.cfg.AcceptSuites {
		size = min(size, maxDatagram-recordHeaderSize-1-aeadOverhead(s))
	}
	return size
}

// Stats returns the messenger's counters.
func (m *Messenger) Stats() MessengerStats {
	return MessengerStats{
		DatagramsSent: m.stats.dgramsSent.Load(), DatagramsReceived: m.stats.dgramsReceived.Load(),
		DatagramsDropped: m.stats.dgramsDropped.Load(),
		RequestsSent:     m.stats.requestsSent.Load(), RequestsFailed: m.stats.requestsFailed.Load(),
		RequestsServed: m.stats.requestsServed.Load(), RequestsDropped: m.stats.requestsDropped.Load(),
	}
}

// Close stops serving sessions and waits for the messenger's goroutines. It
// leaves the sessions and the endpoint open; calls after Close fail with
// core.ErrClosed.
func (m *Messenger) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	return nil
}

// SendDatagram sends payload to the peer as one datagram, best effort. With
// no session yet it stages the datagram, dials in the background and
// returns nil; the datagram is dropped if the dial fails.
func (m *Messenger) SendDatagram(_ context.Context, to core.Peer, payload []byte) error {
	if limit := m.MaxDatagramSize(); len(payload) > limit {
		return fmt.Errorf("transport: messenger: datagram of %d bytes (max %d): %w", len(payload), limit, ErrMessageTooLarge)
	}
	if !to.ID.IsZero() {
		if s, ok := m.e.Session(to.ID); ok && !s.isDone() {
			if err := m.adopt(s); err != nil {
				return err
			}
			return m.sendOn(s, payload)
		}
	}
	if !to.Addr.IsValid() {
		return fmt.Errorf("transport: messenger: datagram to %s: no session and no address: %w", to.ID.Short(), core.ErrNotFound)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("transport: messenger: datagram: %w", core.ErrClosed)
	}
	key := core.Peer{ID: to.ID, Addr: to.Addr}
	sd := m.staged[key]
	if sd == nil {
		sd = &stagedDial{want: to.ID}
		m.staged[key] = sd
		m.wg.Add(1)
		go m.dialStaged(key, sd)
	}
	if len(sd.dgrams) == m.cfg.StagedDatagrams {
		sd.dgrams = sd.dgrams[1:]
		m.stats.dgramsDropped.Add(1)
	}
	sd.dgrams = append(sd.dgrams, append([]byte(nil), payload...))
	return nil
}

// sendOn sends one datagram on s and counts it.
func (m *Messenger) sendOn(s *Session, payload []byte) error {
	if err := s.SendDatagram(payload); err != nil {
		return fmt.Errorf("transport: messenger: datagram to %s: %w", s.PeerID().Short(), err)
	}
	m.stats.dgramsSent.Add(1)
	return nil
}

// dialStaged dials key.Addr for SendDatagram and sends what was staged for it.
func (m *Messenger) dialStaged(key core.Peer, sd *stagedDial) {
	defer m.wg.Done()
	addr := key.Addr
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.DialTimeout)
	s, err := m.e.Dial(ctx, addr.String())
	cancel()
	m.mu.Lock()
	delete(m.staged, key)
	dgrams := sd.dgrams
	m.mu.Unlock()
	if err == nil && !sd.want.IsZero() && s.PeerID() != sd.want {
		err = fmt.Errorf("%w: wanted %s, got %s", ErrWrongPeer, sd.want.Short(), s.PeerID().Short())
	}
	if err == nil {
		err = m.adopt(s)
	}
	if err != nil {
		m.stats.dgramsDropped.Add(uint64(len(dgrams)))
		m.log.Debug("transport: messenger: dial for datagrams", "addr", addr, "dropped", len(dgrams), "err", err)
		return
	}
	for _, d := range dgrams {
		if err := m.sendOn(s, d); err != nil {
			m.log.Debug("transport: messenger: staged datagram", "err", err)
		}
	}
}

// Request sends payload to the peer over a new stream and returns its reply.
// It dials the peer (within ctx) when there is no session. A reply that
// reports the handler's failure is an error wrapping ErrRemote.
func (m *Messenger) Request(ctx context.Context, to core.Peer, payload []byte) ([]byte, error) {
	if len(payload) > m.cfg.MaxRequestSize {
		return nil, fmt.Errorf("transport: messenger: request of %d bytes (max %d): %w", len(payload), m.cfg.MaxRequestSize, ErrMessageTooLarge)
	}
	m.stats.requestsSent.Add(1)
	reply, err := m.request(ctx, to, payload)
	if err != nil && !errors.Is(err, ErrRemote) {
		m.stats.requestsFailed.Add(1)
	}
	return reply, err
}

func (m *Messenger) request(ctx context.Context, to core.Peer, payload []byte) ([]byte, error) {
	// The exchange ends with ctx or with the messenger.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(m.ctx, cancel)()
	s, err := m.sessionFor(ctx, to)
	if err != nil {
		return nil, err
	}
	st, err := s.OpenStream(ctx)
	if err != nil {
		return nil, fmt.Errorf("transport: messenger: request to %s: open stream: %w", s.PeerID().Short(), err)
	}
	defer st.Close()
	// Closing the stream when ctx ends unblocks the exchange; ctx's error is
	// then already set, so fail reports it rather than the stream's.
	defer context.AfterFunc(ctx, func() { st.Close() })()
	fail := func(step string, err error) error {
		switch {
		case m.ctx.Err() != nil:
			err = fmt.Errorf("messenger closed: %w", core.ErrClosed)
		case ctx.Err() != nil:
			err = context.Cause(ctx)
		}
		return fmt.Errorf("transport: messenger: request to %s: %s: %w", s.PeerID().Short(), step, err)
	}
	if err := writeRequestFrame(st, payload); err != nil {
		return nil, fail("write", err)
	}
	reply, err := readReplyFrame(st, m.cfg.MaxRequestSize)
	if err != nil {
		if errors.Is(err, ErrRemote) {
			return nil, fmt.Errorf("transport: messenger: request to %s: %w", s.PeerID().Short(), err)
		}
		return nil, fail("read reply", err)
	}
	return reply, nil
}

// sessionFor returns a live session with the peer: the one its NodeID has,
// or one dialed at its address, which must authenticate as that NodeID.
func (m *Messenger) sessionFor(ctx context.Context, to core.Peer) (*Session, error) {
	if !to.ID.IsZero() {
		if s, ok := m.e.Session(to.ID); ok && !s.isDone() {
			return s, m.adopt(s)
		}
	}
	if !to.Addr.IsValid() {
		return nil, fmt.Errorf("transport: messenger: %s: no session and no address: %w", to.ID.Short(), core.ErrNotFound)
	}
	s, err := m.e.Dial(ctx, to.Addr.String())
	if err != nil {
		return nil, fmt.Errorf("transport: messenger: dial %s: %w", to.Addr, err)
	}
	if !to.ID.IsZero() && s.PeerID() != to.ID {
		return nil, fmt.Errorf("%w: %s wanted %s, got %s", ErrWrongPeer, to.Addr, to.ID.Short(), s.PeerID().Short())
	}
	return s, m.adopt(s)
}

// peerOf names a session's peer for handlers: the authenticated NodeID and
// the address its last authenticated packet came from.
func peerOf(s *Session) core.Peer {
	p := core.Peer{ID: s.PeerID()}
	if ap, err := addrPortOf(s.RemoteAddr()); err == nil {
		p.Addr = ap
	}
	return p
}
