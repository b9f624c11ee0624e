package swim

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/snowmerak/clustering/core"
)

// reader consumes big-endian fields from untrusted bytes. The first failure
// sticks: later reads return zero values, and err reports what went wrong.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format+": %w", append(args, core.ErrInvalidInput)...)
	}
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.fail("%s: need %d bytes, have %d", what, n, len(r.b))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8(what string) uint8 {
	if v := r.take(1, what); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16(what string) uint16 {
	if v := r.take(2, what); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if v := r.take(4, what); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64(what string) uint64 {
	if v := r.take(8, what); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *reader) nodeID(what string) core.NodeID {
	var id core.NodeID
	copy(id[:], r.take(core.NodeIDSize, what))
	return id
}

// str8 reads a string with a one-byte length.
func (r *reader) str8(what string) string {
	return string(r.take(int(r.u8(what)), what))
}

// bytes16 reads a byte string with a two-byte length of at most limit.
func (r *reader) bytes16(what string, limit int) []byte {
	n := int(r.u16(what))
	if n > limit {
		r.fail("%s: %d bytes exceeds %d", what, n, limit)
		return nil
	}
	return r.take(n, what)
}

// addrPort reads an address: a length byte (0, 6 or 18) then IP and port.
func (r *reader) addrPort(what string) netip.AddrPort {
	n := r.u8(what)
	switch n {
	case 0:
		return netip.AddrPort{}
	case 4 + 2, 16 + 2:
		b := r.take(int(n), what)
		if b == nil {
			return netip.AddrPort{}
		}
		ip, _ := netip.AddrFromSlice(b[:n-2])
		if ip.Is4In6() {
			r.fail("%s: IPv4-mapped address must use the 4-byte form", what)
			return netip.AddrPort{}
		}
		return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[n-2:]))
	}
	r.fail("%s: address length %d", what, n)
	return netip.AddrPort{}
}

// count reads a two-byte element count and checks that the rest holds at
// least count elements of minSize bytes, before anyone allocates for them.
func (r *reader) count(what string, minSize, limit int) int {
	n := int(r.u16(what))
	if n > limit {
		r.fail("%s: %d entries exceeds %d", what, n, limit)
		return 0
	}
	if r.err == nil && n*minSize > len(r.b) {
		r.fail("%s: %d entries need %d bytes, have %d", what, n, n*minSize, len(r.b))
		return 0
	}
	return n
}

// count32 is count with a four-byte count.
func (r *reader) count32(what string, minSize, limit int) int {
	n := int(r.u32(what))
	if n > limit {
		r.fail("%s: %d entries exceeds %d", what, n, limit)
		return 0
	}
	if r.err == nil && n*minSize > len(r.b) {
		r.fail("%s: %d entries need %d bytes, have %d", what, n, n*minSize, len(r.b))
		return 0
	}
	return n
}

// done fails unless every byte was consumed.
func (r *reader) done(what string) error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%s: %d trailing bytes", what, len(r.b))
	}
	return r.err
}

func appendAddrPort(b []byte, a netip.AddrPort) []byte {
	if !a.IsValid() {
		return append(b, 0)
	}
	ip := a.Addr().Unmap()
	raw := ip.AsSlice()
	b = append(b, byte(len(raw)+2))
	b = append(b, raw...)
	return binary.BigEndian.AppendUint16(b, a.Port())
}

func appendStr8(b []byte, s string) []byte {
	return append(append(b, byte(len(s))), s...)
}

func appendBytes16(b, v []byte) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(v))), v...)
}
