package integration_test

import (
	"io"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/transport"
)

// Datagram types of the wire format (transport/PROTOCOL.md §1).
const (
	typeM1     = 1
	typeM2     = 2
	typeM3     = 3
	typeRecord = 5
)

// Record layout (PROTOCOL.md §5): type, reserved[3], receiver index u32,
// counter u64, then the AEAD ciphertext whose last 16 bytes are the tag.
const (
	recordIndexOffset   = 4
	recordCounterOffset = 8
	recordHeaderSize    = 16
	recordTagSize       = 16
	// fragmentHeaderSize is the header of handshake fragments (§2).
	fragmentHeaderSize = 10
)

// costMeter counts the expensive operations an endpoint performs: KEM key
// generation, encapsulation and decapsulation, signing and verification.
type costMeter struct {
	keygens, encaps, decaps, signs, verifies atomic.Int64
}

// expensive is the total of the meter's operations.
func (m *costMeter) expensive() int64 {
	return m.keygens.Load() + m.encaps.Load() + m.decaps.Load() + m.signs.Load() + m.verifies.Load()
}

// meter makes cfg count its public-key work on m: the suite's KEM and
// signature schemes and the identity's signer are wrapped.
func (m *costMeter) meter(cfg *transport.Config) {
	suite := cfg.Suite
	suite.KEM = meteredKEM{suite.KEM, m}
	suite.Signatures = nil
	for _, s := range pqc.DefaultSuite().Signatures {
		suite.Signatures = append(suite.Signatures, meteredScheme{s, m})
	}
	cfg.Suite = suite
	cfg.Identity.Signer = meteredSigner{cfg.Identity.Signer, m}
}

type meteredKEM struct {
	core.KEM
	m *costMeter
}

func (k meteredKEM) NewKeyFromSeed(seed []byte) (core.KEMPrivateKey, error) {
	k.m.keygens.Add(1)
	dk, err := k.KEM.NewKeyFromSeed(seed)
	return meteredKEMKey{dk, k.m}, err
}

func (k meteredKEM) GenerateKey(rand io.Reader) (core.KEMPrivateKey, error) {
	k.m.keygens.Add(1)
	dk, err := k.KEM.GenerateKey(rand)
	return meteredKEMKey{dk, k.m}, err
}

func (k meteredKEM) Encapsulate(rand io.Reader, pk []byte) ([]byte, []byte, error) {
	k.m.encaps.Add(1)
	return k.KEM.Encapsulate(rand, pk)
}

type meteredKEMKey struct {
	core.KEMPrivateKey
	m *costMeter
}

func (k meteredKEMKey) Decapsulate(ct []byte) ([]byte, error) {
	k.m.decaps.Add(1)
	return k.KEMPrivateKey.Decapsulate(ct)
}

type meteredSigner struct {
	core.Signer
	m *costMeter
}

func (s meteredSigner) Sign(msg, ctx []byte) ([]byte, error) {
	s.m.signs.Add(1)
	return s.Signer.Sign(msg, ctx)
}

type meteredScheme struct {
	core.SignatureScheme
	m *costMeter
}

func (s meteredScheme) ParsePublicKey(b []byte) (core.PublicKey, error) {
	pk, err := s.SignatureScheme.ParsePublicKey(b)
	if err != nil {
		return nil, err
	}
	return meteredPublicKey{pk, s.m}, nil
}

type meteredPublicKey struct {
	core.PublicKey
	m *costMeter
}

func (p meteredPublicKey) Verify(msg, ctx, sig []byte) bool {
	p.m.verifies.Add(1)
	return p.PublicKey.Verify(msg, ctx, sig)
}

// wiretap records the packets of chosen types sent from one address to
// another, in order; it is an adversary hook.
type wiretap struct {
	from, to netip.AddrPort
	types    map[byte]bool

	mu      sync.Mutex
	packets [][]byte
	on      bool
}

func newWiretap(from, to string, types ...byte) *wiretap {
	w := &wiretap{from: netip.MustParseAddrPort(from), to: netip.MustParseAddrPort(to), types: map[byte]bool{}, on: true}
	for _, t := range types {
		w.types[t] = true
	}
	return w
}

// hook records a copy of each matching packet and delivers it unchanged.
func (w *wiretap) hook(p *fakenet.Packet) fakenet.Verdict {
	if p.From == w.from && p.To == w.to && len(p.Payload) > 0 && w.types[p.Payload[0]] {
		w.mu.Lock()
		if w.on {
			w.packets = append(w.packets, append([]byte(nil), p.Payload...))
		}
		w.mu.Unlock()
	}
	return fakenet.Deliver
}

// stop ends the recording and returns what was recorded.
func (w *wiretap) stop() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.on = false
	return w.packets
}

// replay injects every packet as if from `from` to `to`.
func replay(n *fakenet.Network, from, to string, packets [][]byte) {
	f, t := netip.MustParseAddrPort(from), netip.MustParseAddrPort(to)
	for _, p := range packets {
		n.Inject(f, t, p)
	}
}

// refusals is the sum of an endpoint's counters of refused datagrams.
func refusals(m transport.Metrics) uint64 {
	return m.ReplayDrops + m.AuthFailures + m.UnknownIndex + m.ExpiredKeyDrops + m.MalformedDrops
}
