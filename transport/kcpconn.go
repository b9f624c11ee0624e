package transport

import (
	"net"
	"sync"
	"time"
)

// kcpConn is the per-session net.PacketConn that kcp-go runs over. ReadFrom
// yields only KCP packets that arrived inside authenticated records of this
// session; WriteTo seals each KCP packet into a record. kcp-go therefore
// never sees an unauthenticated byte, and its own crypto stays off.
type kcpConn struct {
	s      *Session
	in     chan kcpPacket
	closed chan struct{}
	once   sync.Once
}

// kcpPacket is a decrypted KCP packet inside a pooled buffer.
type kcpPacket struct {
	buf  *packetBuf
	data []byte
}

func newKCPConn(s *Session) *kcpConn {
	return &kcpConn{s: s, in: make(chan kcpPacket, recvQueueLen), closed: make(chan struct{})}
}

// deliver queues a decrypted packet for KCP and reports whether it took buf
// (read loop). A full queue drops the packet, as a full socket would.
func (c *kcpConn) deliver(buf *packetBuf, data []byte) bool {
	select {
	case <-c.closed:
		return false
	default:
	}
	select {
	case c.in <- kcpPacket{buf: buf, data: data}:
		return true
	default:
		c.s.e.stats.queueDrops.Add(1)
		return false
	}
}

// ReadFrom returns the next authenticated KCP packet.
func (c *kcpConn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case pkt := <-c.in:
		n := copy(p, pkt.data)
		c.s.e.putBuf(pkt.buf)
		return n, virtualAddr{}, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

// WriteTo seals a KCP packet into a record. Send errors are dropped like
// lost datagrams (KCP retransmits); only a closed session is an error,
// because kcp-go treats any error as fatal.
func (c *kcpConn) WriteTo(p []byte, _ net.Addr) (int, error) {
	if c.s.isDone() {
		return 0, net.ErrClosed
	}
	_ = c.s.sendRecord(contentKCP, p)
	return len(p), nil
}

// Close stops ReadFrom and frees queued packets.
func (c *kcpConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		for {
			select {
			case pkt := <-c.in:
				c.s.e.putBuf(pkt.buf)
			default:
				return
			}
		}
	})
	return nil
}

func (c *kcpConn) LocalAddr() net.Addr              { return virtualAddr{} }
func (c *kcpConn) SetDeadline(time.Time) error      { return nil }
func (c *kcpConn) SetReadDeadline(time.Time) error  { return nil }
func (c *kcpConn) SetWriteDeadline(time.Time) error { return nil }

// virtualAddr is the address kcp-go sees for a session's peer: constant, so
// that roaming (which changes the real address) is invisible to KCP.
type virtualAddr struct{}

func (virtualAddr) Network() string { return "transport" }
func (virtualAddr) String() string  { return "session" }
