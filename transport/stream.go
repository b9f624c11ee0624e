package transport

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/xtaci/smux"
)

// Stream is a reliable, ordered byte stream within a session (a net.Conn).
// When the session ends, reads and writes fail with an error wrapping the
// session's reason (ErrSessionTimeout, ErrPeerClosed, ErrSessionClosed, ...);
// a stream the peer closed reads io.EOF.
type Stream struct {
	st *smux.Stream
	s  *Session
}

var _ net.Conn = (*Stream)(nil)

// Read reads from the stream.
func (x *Stream) Read(b []byte) (int, error) {
	n, err := x.st.Read(b)
	return n, x.err(err)
}

// Write writes to the stream.
func (x *Stream) Write(b []byte) (int, error) {
	n, err := x.st.Write(b)
	return n, x.err(err)
}

// Close closes the stream (the peer reads io.EOF once it has read the data).
func (x *Stream) Close() error {
	err := x.st.Close()
	if errors.Is(err, io.ErrClosedPipe) {
		return net.ErrClosed
	}
	return x.err(err)
}

// err maps multiplexer errors: after the session ended, its reason; a read
// of a stream closed by the peer, io.EOF.
func (x *Stream) err(err error) error {
	if err == nil || errors.Is(err, io.EOF) && !x.s.isDone() {
		return err
	}
	return x.s.streamErr(err)
}

// LocalAddr returns the endpoint's address.
func (x *Stream) LocalAddr() net.Addr { return x.s.LocalAddr() }

// RemoteAddr returns the peer's current address.
func (x *Stream) RemoteAddr() net.Addr { return x.s.RemoteAddr() }

// SetDeadline sets the read and write deadlines.
func (x *Stream) SetDeadline(t time.Time) error { return x.st.SetDeadline(t) }

// SetReadDeadline sets the read deadline.
func (x *Stream) SetReadDeadline(t time.Time) error { return x.st.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline.
func (x *Stream) SetWriteDeadline(t time.Time) error { return x.st.SetWriteDeadline(t) }

// ID returns the stream's identifier within its session.
func (x *Stream) ID() uint32 { return x.st.ID() }
