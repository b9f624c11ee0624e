package transport

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
)

var apA, apB = netip.MustParseAddrPort(addrA), netip.MustParseAddrPort(addrB)

// isFrag reports whether p is fragment idx (-1: the last) of a message of type t.
func isFrag(p *fakenet.Packet, t packetType, idx int) bool {
	b := p.Payload
	if len(b) < fragmentHeaderSize || packetType(b[0]) != t {
		return false
	}
	if idx < 0 {
		return int(b[1]) == int(b[2])-1
	}
	return int(b[1]) == idx
}

// shortHandshakes makes failed handshakes fail fast.
func shortHandshakes(_ string, c *Config) { c.HandshakeTimeout = 2 * time.Second }

// dialFails dials b from a and checks that no session came of it on either side.
func dialFails(t *testing.T, p *pair) error {
	t.Helper()
	_, err := p.a.Dial(ctxT(t, 5*time.Second), addrB)
	require.Error(t, err)
	assert.Zero(t, p.a.Metrics().SessionsOpened, "initiator opened a session")
	assert.Zero(t, p.b.Metrics().SessionsOpened, "responder opened a session")
	return err
}

// Each handshake message is tampered with in flight, in every retransmission:
// the handshake must not complete, whatever byte changes.
func TestTamperedHandshakeMessagesAreRefused(t *testing.T) {
	const m1Fixed = fragmentHeaderSize + 1 + 4 + 4
	cases := []struct {
		name   string
		typ    packetType
		frag   int // -1: the last fragment
		offset int // -1: the last byte
		// detector is the endpoint that must see the damage as an
		// authentication failure ("" when the message is merely dropped).
		detector string
	}{
		{"M1 version", typeM1, 0, fragmentHeaderSize, ""},
		{"M1 suite", typeM1, 0, fragmentHeaderSize + 4, ""},
		{"M1 nonce", typeM1, 0, m1Fixed + 3, "a"},
		{"M1 chain hint", typeM1, 0, m1Fixed + nonceSize + 3, "a"},
		{"M1 ephemeral key", typeM1, 0, m1Fixed + nonceSize + hintSize + 2 + 100, "a"},
		{"M1 padding", typeM1, -1, -1, ""},
		{"M2 responder nonce", typeM2, 0, fragmentHeaderSize + 8 + 5, "a"},
		{"M2 KEM ciphertext", typeM2, 0, fragmentHeaderSize + 8 + nonceSize + 2 + 50, "a"},
		{"M2 sealed payload", typeM2, -1, -1, "a"},
		{"M3 sealed payload", typeM3, -1, -1, "b"},
		{"M3 initiator index", typeM3, 0, fragmentHeaderSize + 5, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, shortHandshakes)
			var tampered sync.WaitGroup
			tampered.Add(1)
			var once sync.Once
			p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
				if isFrag(pk, tc.typ, tc.frag) {
					off := tc.offset
					if off < 0 {
						off = len(pk.Payload) - 1
					}
					pk.Payload[off] ^= 0x40
					once.Do(tampered.Done)
				}
				return fakenet.Deliver
			})
			err := dialFails(t, p)
			tampered.Wait()
			assert.ErrorIs(t, err, ErrHandshakeTimeout)
			switch tc.detector {
			case "a":
				assert.NotZero(t, p.a.Metrics().AuthFailures, "initiator did not detect the tampering")
				assert.Contains(t, err.Error(), "(last failure: "+ReasonDecrypt.String()+": m2 payload failed to authenticate", "the timeout does not name the last failure")
			case "b":
				assert.NotZero(t, p.b.Metrics().AuthFailures, "responder did not detect the tampering")
			}
		})
	}
}

// M2 from one handshake is spliced into another: the initiator's transcript
// and ephemeral key differ, so the spliced M2 cannot authenticate.
func TestSplicedM2IsRefused(t *testing.T) {
	p := newPair(t, shortHandshakes)
	var mu sync.Mutex
	var recorded [][]byte
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if packetType(pk.Payload[0]) == typeM2 {
			mu.Lock()
			recorded = append(recorded, append([]byte(nil), pk.Payload...))
			mu.Unlock()
		}
		return fakenet.Deliver
	})
	sa, _ := p.connect(t)
	require.NoError(t, sa.Close())
	eventually(t, 2*time.Second, func() bool { return p.b.Metrics().Sessions == 0 }, "peer saw the close")

	// Second handshake: drop the genuine M2 and deliver the old one,
	// re-addressed to the new initiator index.
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if packetType(pk.Payload[0]) != typeM2 {
			return fakenet.Deliver
		}
		index := binary.BigEndian.Uint32(pk.Payload[4:8])
		mu.Lock()
		old := recorded
		mu.Unlock()
		for _, f := range old {
			spliced := append([]byte(nil), f...)
			binary.BigEndian.PutUint32(spliced[4:8], index) // fragment header
			if spliced[1] == 0 {
				// and the initiator index inside M2's clear head
				binary.BigEndian.PutUint32(spliced[fragmentHeaderSize+4:], index)
			}
			p.net.Inject(pk.From, pk.To, spliced)
		}
		return fakenet.Drop
	})
	before := p.a.Metrics().AuthFailures
	_, err := p.a.Dial(ctxT(t, 5*time.Second), addrB)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrHandshakeTimeout)
	assert.Greater(t, p.a.Metrics().AuthFailures, before)
	assert.Equal(t, uint64(1), p.a.Metrics().SessionsOpened, "only the first session")
}

// weakAEAD is AES-256-GCM under another identifier, standing in for a weaker
// suite that a responder still accepts during a migration.
type weakAEAD struct{ core.AEAD }

func (weakAEAD) ID() uint16     { return 0xFFFE }
func (weakAEAD) Name() string   { return "weak" }
func (w weakAEAD) KeySize() int { return w.AEAD.KeySize() }
func (w weakAEAD) New(k []byte) (cipher.AEAD, error) {
	return w.AEAD.New(k)
}

// An attacker rewrites the suite offered in M1 to a weaker one the
// responder also accepts: the transcript covers M1, so the handshake fails.
func TestSuiteDowngradeIsRefused(t *testing.T) {
	weak := coretest.Suite()
	weak.Name, weak.AEAD = "weak", weakAEAD{coretest.AES256GCM}
	p := newPair(t, func(name string, c *Config) {
		shortHandshakes(name, c)
		if name == "b" {
			c.AcceptSuites = []core.Suite{weak}
		}
	})
	strongID := coretest.Suite().ID()
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if isFrag(pk, typeM1, 0) {
			off := fragmentHeaderSize + 1
			require.Equal(t, strongID, binary.BigEndian.Uint32(pk.Payload[off:]))
			binary.BigEndian.PutUint32(pk.Payload[off:], weak.ID())
		}
		return fakenet.Deliver
	})
	err := dialFails(t, p)
	assert.ErrorIs(t, err, ErrHandshakeTimeout)
	assert.NotZero(t, p.a.Metrics().AuthFailures)

	// Control: without the attacker the weaker suite is never chosen.
	p.net.SetHook(nil)
	sa, _ := p.connect(t)
	assert.Equal(t, strongID, sa.suite.ID())
}

// A recorded M1 replayed after its handshake completed, from the same
// address or another, makes the responder do nothing.
func TestReplayedM1IsRefused(t *testing.T) {
	p := newPair(t, nil)
	var mu sync.Mutex
	var m1 [][]byte
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if packetType(pk.Payload[0]) == typeM1 {
			mu.Lock()
			m1 = append(m1, append([]byte(nil), pk.Payload...))
			mu.Unlock()
		}
		return fakenet.Deliver
	})
	p.connect(t)
	var answers atomicCounter
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if pk.From == apB && (packetType(pk.Payload[0]) == typeM2 || packetType(pk.Payload[0]) == typeCookieReply) {
			answers.add(1)
		}
		return fakenet.Deliver
	})
	mu.Lock()
	frags := m1
	mu.Unlock()
	require.NotEmpty(t, frags)
	third := netip.MustParseAddrPort("10.0.0.3:7000")
	for _, from := range []netip.AddrPort{apA, third} {
		replaysBefore := p.b.Metrics().M1Replays
		for _, f := range frags {
			p.net.Inject(from, apB, f)
		}
		eventually(t, 2*time.Second, func() bool { return p.b.Metrics().M1Replays > replaysBefore }, "replay not detected")
	}
	time.Sleep(50 * time.Millisecond)
	assert.Zero(t, answers.load(), "responder answered a replayed M1")
	assert.Equal(t, uint64(1), p.b.Metrics().SessionsOpened)
	assert.Equal(t, 1, p.b.index.len(), "no handshake state was created")
}

// A recorded M3 replayed while its session lives earns at most a keepalive
// (the initiator retransmits M3 until it sees one); replayed after the
// session ended it names no index and is dropped. It never opens a session.
func TestReplayedM3IsRefused(t *testing.T) {
	p := newPair(t, nil)
	var mu sync.Mutex
	var m3 [][]byte
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if packetType(pk.Payload[0]) == typeM3 {
			mu.Lock()
			m3 = append(m3, append([]byte(nil), pk.Payload...))
			mu.Unlock()
		}
		return fakenet.Deliver
	})
	sa, sb := p.connect(t)
	p.net.SetHook(nil)
	mu.Lock()
	frags := m3
	mu.Unlock()
	require.NotEmpty(t, frags)
	for _, f := range frags {
		p.net.Inject(apA, apB, f)
	}
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, uint64(1), p.b.Metrics().SessionsOpened)
	assert.Equal(t, uint64(1), p.b.Metrics().HandshakesCompleted)
	assert.Nil(t, sb.Err())
	assert.Nil(t, sa.Err())

	require.NoError(t, sa.Close())
	eventually(t, 2*time.Second, func() bool { return sb.Err() != nil }, "close not seen")
	unknown := p.b.Metrics().UnknownIndex
	for _, f := range frags {
		p.net.Inject(apA, apB, f)
	}
	eventually(t, 2*time.Second, func() bool { return p.b.Metrics().UnknownIndex > unknown }, "replayed M3 not dropped")
	assert.Equal(t, uint64(1), p.b.Metrics().SessionsOpened)
}

// An attacker reflects a node's own M1 back to it: the node would be talking
// to itself, and refuses.
func TestReflectedHandshakeIsRefused(t *testing.T) {
	p := newPair(t, shortHandshakes)
	// Every packet a sends to b goes back to a, as if from b.
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if pk.From == apA && pk.To == apB {
			pk.From, pk.To = apB, apA
		}
		return fakenet.Deliver
	})
	_, err := p.a.Dial(ctxT(t, 5*time.Second), addrB)
	require.Error(t, err)
	var herr *HandshakeError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, ReasonNotAllowed, herr.Reason)
	assert.Zero(t, p.a.Metrics().SessionsOpened)
}

// A responder that the initiator accepted refuses its M3 with a reason code
// the initiator does not know (a malicious member, or a newer version). The
// initiator must fail the dial with ErrRefusedByPeer, not crash: the code
// indexes nothing.
func TestRejectWithUnknownReasonFailsTheDial(t *testing.T) {
	for _, code := range []byte{0, byte(numReasons), 0xff} {
		t.Run(fmt.Sprintf("reason %d", code), func(t *testing.T) {
			t.Parallel()
			var p *pair
			p = newPair(t, func(name string, c *Config) {
				shortHandshakes(name, c)
				if name == "b" { // b refuses a: it answers a's M3 with a reject
					c.Policy.Pinned = []core.NodeID{{1}}
				}
			})
			var mu sync.Mutex
			var keys handshakeKeys
			p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
				switch {
				case pk.From == apA && isFrag(pk, typeM3, 0):
					// The malicious responder holds its handshake keys.
					p.b.mu.Lock()
					for _, rs := range p.b.responders {
						rs.mu.Lock()
						mu.Lock()
						keys = rs.keys
						mu.Unlock()
						rs.mu.Unlock()
					}
					p.b.mu.Unlock()
				case pk.From == apB && packetType(pk.Payload[0]) == typeReject:
					mu.Lock()
					k := keys
					mu.Unlock()
					aead, err := coretest.Suite().AEAD.New(k.respKey)
					if !assert.NoError(t, err) {
						return fakenet.Deliver
					}
					head := pk.Payload[:rejectHeaderSize]
					nonce := sealNonce(nil, k.respIV, 1)
					_, err = aead.Open(nil, nonce, pk.Payload[rejectHeaderSize:], head)
					assert.NoError(t, err, "the reject is sealed under the handshake keys")
					pk.Payload = aead.Seal(append([]byte(nil), head...), nonce, []byte{code}, head)
				}
				return fakenet.Deliver
			})
			_, err := p.a.Dial(ctxT(t, 5*time.Second), addrB)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrRefusedByPeer)
			var herr *HandshakeError
			require.ErrorAs(t, err, &herr)
			assert.Less(t, herr.Reason, numReasons, "the reason is one this side knows")
			assert.NotEqual(t, ReasonNone, herr.Reason)
			assert.Zero(t, p.a.Metrics().SessionsOpened)
		})
	}
}
