//go:build linux

package transport

import (
	"encoding/binary"
	"errors"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDP segmentation offloads (Linux 4.18+ for GSO, 5.0+ for GRO). A GSO send
// hands the kernel one buffer of equal-sized datagrams and one destination;
// the stack carries it as one packet as far as it can and cuts it into the
// datagrams on the wire (on loopback, into the receiving socket). GRO is the
// receiving half: the kernel hands over a run of equal-sized datagrams from
// one source in one buffer, with their size in a control message. Datagrams
// on the wire are exactly those a sender without offloads would send.

// enableGSO reports whether the socket can send with UDP_SEGMENT.
func enableGSO(c *net.UDPConn) bool {
	ok := false
	control(c, func(fd int) {
		_, err := unix.GetsockoptInt(fd, unix.SOL_UDP, unix.UDP_SEGMENT)
		ok = err == nil
	})
	return ok
}

// enableGRO turns on UDP_GRO and reports whether the kernel took it.
func enableGRO(c *net.UDPConn) bool {
	ok := false
	control(c, func(fd int) {
		ok = unix.SetsockoptInt(fd, unix.SOL_UDP, unix.UDP_GRO, 1) == nil
	})
	return ok
}

func control(c *net.UDPConn, f func(fd int)) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { f(int(fd)) })
}

// gsoControlSize is room for a UDP_SEGMENT control message.
const gsoControlSize = 32

// putGSOControl writes a UDP_SEGMENT control message for datagrams of size
// bytes into b (gsoControlSize long) and returns it.
func putGSOControl(b []byte, size int) []byte {
	b = b[:unix.CmsgSpace(2)]
	clear(b)
	h := unix.Cmsghdr{Level: unix.SOL_UDP, Type: unix.UDP_SEGMENT}
	h.SetLen(unix.CmsgLen(2))
	copy(b, unsafe.Slice((*byte)(unsafe.Pointer(&h)), unsafe.Sizeof(h)))
	binary.NativeEndian.PutUint16(b[unix.CmsgLen(0):], uint16(size))
	return b
}

// groControlSize is room for the control messages of a GRO read.
const groControlSize = 64

// groSegmentSize returns the datagram size of a GRO read from its control
// messages, or 0 when the read holds one datagram (or the control messages
// cannot be read, which makes the read one datagram too).
func groSegmentSize(oob []byte) int {
	if len(oob) == 0 {
		return 0
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_UDP && m.Header.Type == unix.UDP_GRO && len(m.Data) >= 4 {
			return int(binary.NativeEndian.Uint32(m.Data))
		}
	}
	return 0
}

// isGSOError reports whether a send failed because the path cannot do GSO
// (a device without checksum offload answers EIO): the writer then stops
// using it.
func isGSOError(err error) bool {
	return errors.Is(err, unix.EIO) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP)
}
