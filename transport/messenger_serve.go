package transport

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/snowmerak/clustering/core"
)

// acceptLoop adopts every session peers open, until Close.
func (m *Messenger) acceptLoop() {
	defer m.wg.Done()
	for {
		s, err := m.e.Accept(m.ctx)
		if err != nil {
			return
		}
		if err := m.adopt(s); err != nil {
			return
		}
	}
}

// adopt starts serving s unless it is served already: one goroutine reads
// its datagrams, one takes its streams. A session is served until it ends.
func (m *Messenger) adopt(s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("transport: messenger: %w", core.ErrClosed)
	}
	if _, ok := m.sessions[s]; ok {
		return nil
	}
	m.sessions[s] = struct{}{}
	m.wg.Add(2)
	go m.datagramLoop(s)
	go m.streamLoop(s)
	return nil
}

// awaitHandler returns the handler once Handle has been called, or nil if
// the messenger or the session ends first.
func (m *Messenger) awaitHandler(s *Session) core.MessageHandler {
	select {
	case <-m.ready:
		return *m.handler.Load()
	case <-m.ctx.Done():
	case <-s.Done():
	}
	return nil
}

// datagramLoop hands s's datagrams to the handler; when the session ends it
// forgets s.
func (m *Messenger) datagramLoop(s *Session) {
	defer m.wg.Done()
	defer func() {
		m.mu.Lock()
		delete(m.sessions, s)
		m.mu.Unlock()
	}()
	if m.awaitHandler(s) == nil {
		return
	}
	for {
		b, err := s.ReceiveDatagram(m.ctx)
		if err != nil {
			return
		}
		m.stats.dgramsReceived.Add(1)
		(*m.handler.Load()).HandleDatagram(peerOf(s), b)
	}
}

// streamLoop serves the requests s's peer opens streams for, at most
// MaxInflight at a time; the rest wait in the session's stream backlog.
func (m *Messenger) streamLoop(s *Session) {
	defer m.wg.Done()
	if m.awaitHandler(s) == nil {
		return
	}
	slots := make(chan struct{}, m.cfg.MaxInflight)
	for {
		st, err := s.AcceptStream(m.ctx)
		if err != nil {
			return
		}
		select {
		case slots <- struct{}{}:
		case <-m.ctx.Done():
			st.Close()
			return
		}
		m.wg.Add(1)
		go func() {
			defer func() { <-slots }()
			m.serve(s, st)
		}()
	}
}

// serve answers one request: read it, call the handler, write the reply,
// all within ServeTimeout.
func (m *Messenger) serve(s *Session, st net.Conn) {
	defer m.wg.Done()
	defer st.Close()
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.ServeTimeout)
	defer cancel()
	defer context.AfterFunc(ctx, func() { st.Close() })()
	_ = st.SetDeadline(time.Now().Add(m.cfg.ServeTimeout))
	peer := peerOf(s)
	req, err := readRequestFrame(st, m.cfg.MaxRequestSize)
	if err != nil {
		m.stats.requestsDropped.Add(1)
		m.log.Debug("transport: messenger: read request", "peer", peer.ID.Short(), "err", err)
		return
	}
	reply, herr := (*m.handler.Load()).HandleRequest(ctx, peer, req)
	if herr == nil && len(reply) > m.cfg.MaxRequestSize {
		herr = fmt.Errorf("reply of %d bytes exceeds %d: %w", len(reply), m.cfg.MaxRequestSize, ErrMessageTooLarge)
	}
	if herr != nil {
		err = writeErrorFrame(st, herr)
	} else {
		err = writeReplyFrame(st, reply)
	}
	if err != nil {
		m.stats.requestsDropped.Add(1)
		m.log.Debug("transport: messenger: write reply", "peer", peer.ID.Short(), "err", err)
		return
	}
	m.stats.requestsServed.Add(1)
}
