package fakenet

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// inboxSize is how many datagrams an endpoint buffers before dropping, like a
// socket receive buffer.
const inboxSize = 4096

type datagram struct {
	from    netip.AddrPort
	payload []byte
}

// Conn is one endpoint of a Network; it implements net.PacketConn (and so
// core.PacketConn). Addresses it reports are *net.UDPAddr.
type Conn struct {
	net  *Network
	addr netip.AddrPort // guarded by net.mu

	inbox         chan datagram
	closeOnce     sync.Once
	closed        chan struct{}
	readDeadline  *deadline
	writeDeadline *deadline
}

// ReadFrom reads the next datagram; a payload longer than p is truncated.
func (c *Conn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case <-c.closed:
		return 0, nil, c.opError("read", net.ErrClosed)
	case <-c.readDeadline.wait():
		return 0, nil, c.opError("read", os.ErrDeadlineExceeded)
	default:
	}
	select {
	case d := <-c.inbox:
		return copy(p, d.payload), udpAddr(d.from), nil
	case <-c.closed:
		return 0, nil, c.opError("read", net.ErrClosed)
	case <-c.readDeadline.wait():
		return 0, nil, c.opError("read", os.ErrDeadlineExceeded)
	}
}

// WriteTo sends p to addr (a *net.UDPAddr or any net.Addr whose String is
// "ip:port"). Like UDP it never blocks and never reports loss.
func (c *Conn) WriteTo(p []byte, addr net.Addr) (int, error) {
	select {
	case <-c.closed:
		return 0, c.opError("write", net.ErrClosed)
	case <-c.writeDeadline.wait():
		return 0, c.opError("write", os.ErrDeadlineExceeded)
	default:
	}
	to, err := addrPortOf(addr)
	if err != nil {
		return 0, c.opError("write", err)
	}
	c.net.send(c.local(), to, append([]byte(nil), p...), true)
	return len(p), nil
}

// Close closes the endpoint and frees its address; blocked reads return net.ErrClosed.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.net.remove(c)
	})
	return nil
}

// LocalAddr returns the endpoint's current address.
func (c *Conn) LocalAddr() net.Addr { return udpAddr(c.local()) }

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.readDeadline.set(t)
	c.writeDeadline.set(t)
	return nil
}

// SetReadDeadline sets the deadline for ReadFrom.
func (c *Conn) SetReadDeadline(t time.Time) error { c.readDeadline.set(t); return nil }

// SetWriteDeadline sets the deadline for WriteTo.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.writeDeadline.set(t); return nil }

// Rebind moves the endpoint to a new address, as a NAT rebinding does: peers
// see its packets come from next, and packets to the old address are lost.
func (c *Conn) Rebind(next string) error {
	ap, err := netip.ParseAddrPort(next)
	if err != nil {
		return fmt.Errorf("fakenet: rebind %q: %w", next, err)
	}
	return c.net.rebind(c, ap)
}

// AddrPort returns the endpoint's current address.
func (c *Conn) AddrPort() netip.AddrPort { return c.local() }

func (c *Conn) local() netip.AddrPort {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	return c.addr
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "udp", Addr: c.LocalAddr(), Err: err}
}

func addrPortOf(a net.Addr) (netip.AddrPort, error) {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	if a == nil {
		return netip.AddrPort{}, fmt.Errorf("fakenet: nil address")
	}
	return netip.ParseAddrPort(a.String())
}
