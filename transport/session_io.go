package transport

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
)

// Send queues msg for reliable, ordered delivery to the peer's Receive. The
// context bounds the wait for the session and for the send slot (messages
// are written one at a time); once a message has started it is written
// whole, so the stream of messages stays framed.
func (s *Session) Send(ctx context.Context, msg []byte) error {
	if len(msg) > s.e.cfg.Limits.MaxMessageSize {
		return fmt.Errorf("transport: send %d bytes (max %d): %w", len(msg), s.e.cfg.Limits.MaxMessageSize, ErrMessageTooLarge)
	}
	if _, err := s.awaitReady(ctx); err != nil {
		return err
	}
	select {
	case s.sendSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return s.err
	}
	defer func() { <-s.sendSem }()
	if err := ctx.Err(); err != nil {
		return err
	}
	const coalesce = 64 << 10 // small messages go out as one frame
	if len(msg) <= coalesce {
		if cap(s.sendBuf) < 4+len(msg) {
			s.sendBuf = make([]byte, 0, 4+coalesce)
		}
		b := binary.BigEndian.AppendUint32(s.sendBuf[:0], uint32(len(msg)))
		b = append(b, msg...)
		_, err := s.out.Write(b)
		return s.streamErr(err)
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(msg)))
	if _, err := s.out.Write(hdr[:]); err != nil {
		return s.streamErr(err)
	}
	_, err := s.out.Write(msg)
	return s.streamErr(err)
}

// Receive returns the next message the peer sent with Send.
func (s *Session) Receive(ctx context.Context) ([]byte, error) {
	select {
	case m := <-s.messages:
		return s.took(m), nil
	default:
	}
	select {
	case m := <-s.messages:
		return s.took(m), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		return nil, s.err
	}
}

// took releases m's bytes from the receive budget and wakes the reader.
func (s *Session) took(m []byte) []byte {
	s.queued.Add(-int64(len(m)))
	select {
	case s.room <- struct{}{}:
	default:
	}
	return m
}

// MaxDatagramSize is the largest payload SendDatagram takes.
func (s *Session) MaxDatagramSize() int { return s.maxDatagram }

// SendDatagram sends b as one authenticated, encrypted, unreliable datagram:
// it may be lost, duplicated by nothing but the network's own faults (the
// replay window drops copies), or arrive out of order with other datagrams.
func (s *Session) SendDatagram(b []byte) error {
	if len(b) > s.maxDatagram {
		return fmt.Errorf("transport: datagram of %d bytes (max %d): %w", len(b), s.maxDatagram, ErrMessageTooLarge)
	}
	if s.isDone() {
		return s.err
	}
	return s.sendRecord(contentDatagram, b)
}

// ReceiveDatagram returns the next datagram from the peer. Datagrams that
// arrive while the queue is full are dropped.
func (s *Session) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	select {
	case d := <-s.datagrams:
		return d, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		return nil, s.err
	}
}

// deliverDatagram queues a received datagram (read loop).
func (s *Session) deliverDatagram(p []byte) {
	select {
	case s.datagrams <- append([]byte(nil), p...):
	default:
		s.e.stats.queueDrops.Add(1)
	}
}

// OpenStream opens a new reliable stream to the peer, who gets it from
// AcceptStream. The stream fails with the session's error when the session
// ends.
func (s *Session) OpenStream(ctx context.Context) (net.Conn, error) {
	if _, err := s.awaitReady(ctx); err != nil {
		return nil, err
	}
	st, err := s.mux.OpenStream()
	if err != nil {
		return nil, s.streamErr(err)
	}
	return &Stream{st: st, s: s}, nil
}

// AcceptStream returns the next stream the peer opened.
func (s *Session) AcceptStream(ctx context.Context) (net.Conn, error) {
	select {
	case st := <-s.streams:
		return &Stream{st: st, s: s}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		return nil, s.err
	}
}

// streamErr replaces a multiplexer error by the session's reason once the
// session has ended, so callers can test it with errors.Is.
func (s *Session) streamErr(err error) error {
	if err == nil {
		return nil
	}
	if s.isDone() {
		return fmt.Errorf("transport: stream: %w", s.err)
	}
	return err
}
