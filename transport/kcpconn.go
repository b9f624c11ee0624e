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
	q      packetQueue
	ready  chan struct{} // a token when q may have become non-empty
	closed chan struct{}
	once   sync.Once
}

// kcpPacket is a decrypted KCP packet inside a pooled buffer.
type kcpPacket struct {
	buf  *packetBuf
	data []byte
}

func newKCPConn(s *Session) *kcpConn {
	return &kcpConn{s: s, q: packetQueue{max: recvQueueLen}, ready: make(chan struct{}, 1), closed: make(chan struct{})}
}

// deliver queues a decrypted packet for KCP and reports whether it took buf
// (read loop). A full queue drops the packet, as a full socket would.
func (c *kcpConn) deliver(buf *packetBuf, data []byte) bool {
	select {
	case <-c.closed:
		return false
	default:
	}
	if !c.q.push(kcpPacket{buf: buf, data: data}) {
		c.s.e.stats.queueDrops.Add(1)
		return false
	}
	select {
	case c.ready <- struct{}{}:
	default:
	}
	return true
}

// ReadFrom returns the next authenticated KCP packet.
func (c *kcpConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		if pkt, ok := c.q.pop(); ok {
			n := copy(p, pkt.data)
			c.s.e.putBuf(pkt.buf)
			return n, virtualAddr{}, nil
		}
		select {
		case <-c.ready:
		case <-c.closed:
			return 0, nil, net.ErrClosed
		}
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

// Close stops ReadFrom and frees queued packets; later deliveries are
// refused.
func (c *kcpConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		for _, pkt := range c.q.close() {
			c.s.e.putBuf(pkt.buf)
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

// packetQueue is a FIFO of decrypted packets bounded at max entries. Its
// ring grows on demand, so an idle session holds a few entries rather than
// the whole bound (sessions used only for datagrams never need it).
type packetQueue struct {
	mu     sync.Mutex
	ring   []kcpPacket
	head   int
	n      int
	max    int
	closed bool
}

// push appends p, or reports false when the queue is full or closed.
func (q *packetQueue) push(p kcpPacket) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.n == q.max {
		return false
	}
	if q.n == len(q.ring) {
		grown := make([]kcpPacket, min(max(2*len(q.ring), 16), q.max))
		for i := range q.n {
			grown[i] = q.ring[(q.head+i)%len(q.ring)]
		}
		q.ring, q.head = grown, 0
	}
	q.ring[(q.head+q.n)%len(q.ring)] = p
	q.n++
	return true
}

// pop removes the oldest packet.
func (q *packetQueue) pop() (kcpPacket, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return kcpPacket{}, false
	}
	p := q.ring[q.head]
	q.ring[q.head] = kcpPacket{}
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return p, true
}

// close refuses further pushes and returns the packets still queued.
func (q *packetQueue) close() []kcpPacket {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	out := make([]kcpPacket, 0, q.n)
	for q.n > 0 {
		out = append(out, q.ring[q.head])
		q.ring[q.head] = kcpPacket{}
		q.head = (q.head + 1) % len(q.ring)
		q.n--
	}
	return out
}
