package integration_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// packetRand draws the adversary's garbage from the scenario seed.
type packetRand struct{ r *rand.Rand }

func newPacketRand(seed int64) *packetRand {
	return &packetRand{rand.New(rand.NewChaCha8(sha256.Sum256(fmt.Appendf(nil, "garbage %d", seed))))}
}

// spoofedAddr is a random source address in 172.16.0.0/12.
func (p *packetRand) spoofedAddr() netip.AddrPort {
	ip := netip.AddrFrom4([4]byte{172, byte(16 + p.r.IntN(16)), byte(p.r.IntN(256)), byte(1 + p.r.IntN(254))})
	return netip.AddrPortFrom(ip, uint16(1024+p.r.IntN(60000)))
}

// garbage returns the i-th garbage datagram: in turn random bytes, random
// bytes under each datagram type (0 to 7), and a forged record that starts
// with the live session's header (type, reserved, receiver index).
func (p *packetRand) garbage(i int, liveHeader []byte) []byte {
	b := make([]byte, p.r.IntN(1500))
	for j := range b {
		b[j] = byte(p.r.Uint32())
	}
	switch kind := i % 10; {
	case kind < 8 && len(b) > 0:
		b[0] = byte(kind)
	case kind == 8:
		if len(b) < 64 {
			b = append(b, make([]byte, 64)...)
		}
		copy(b, liveHeader)
	}
	return b
}
