package transport

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest/fakenet"
)

// FuzzParseFragment fuzzes the fragment header against any datagram length:
// only the header's bytes and the datagram's length matter to the parser,
// so the body is generated (which keeps input minimization cheap).
func FuzzParseFragment(f *testing.F) {
	for _, fr := range fragmentMessage(typeM2, 9, make([]byte, 2*fragmentPayload+5)) {
		f.Add(fr[:fragmentHeaderSize], uint16(len(fr)-fragmentHeaderSize))
	}
	for _, fr := range craftM1(f, 3) {
		f.Add(fr[:fragmentHeaderSize], uint16(len(fr)-fragmentHeaderSize))
	}
	f.Add([]byte{3, 0, 1, 0, 0, 0, 0, 1, 0, 5}, uint16(5))
	f.Fuzz(func(t *testing.T, header []byte, bodyLen uint16) {
		b := append(append([]byte(nil), header...), make([]byte, int(bodyLen)%(readBufferSize+1))...)
		fr, err := parseFragment(b)
		if err != nil {
			return
		}
		if len(fr.data) != fragmentLen(fr.total, fr.idx) || fr.idx >= fr.count || len(b) > maxDatagram {
			t.Fatalf("accepted an inconsistent fragment: %+v", fr)
		}
		r := newReassembly(fr, testNow)
		msg, err := r.add(fr, len(b))
		if err != nil || (fr.count == 1) != (msg != nil) {
			t.Fatalf("reassembly of a valid fragment: %v", err)
		}
	})
}

func FuzzParseM1(f *testing.F) {
	f.Add(sampleM1(f, 1184, nil).marshal())
	f.Add(sampleM1(f, 1216, bytes.Repeat([]byte{1}, cookieSize)).marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseM1(b)
		if err != nil {
			return
		}
		again, err := parseM1(m.marshal())
		if err != nil {
			t.Fatalf("re-encoded M1 does not parse: %v", err)
		}
		if again.nonce != m.nonce || !bytes.Equal(again.epk, m.epk) || !bytes.Equal(again.cookie, m.cookie) || again.suite != m.suite {
			t.Fatal("M1 changed in a round trip")
		}
	})
}

func FuzzParseM2M3(f *testing.F) {
	f.Add(append((&m2Clear{respIndex: 1, initIndex: 2, ct: make([]byte, 1088)}).marshal(), make([]byte, 500)...))
	f.Add(append((&m3Clear{respIndex: 1, initIndex: 2}).marshal(), make([]byte, 100)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if head, clear, sealed, err := parseM2(b); err == nil {
			if !bytes.Equal(head.marshal(), clear) || len(clear)+len(sealed) != len(b) {
				t.Fatal("M2 head does not re-encode to itself")
			}
		}
		if head, clear, sealed, err := parseM3(b); err == nil {
			if !bytes.Equal(head.marshal(), clear) || len(clear)+len(sealed) != len(b) {
				t.Fatal("M3 head does not re-encode to itself")
			}
		}
	})
}

func FuzzParsePayload(f *testing.F) {
	fin := make([]byte, finishedSize)
	f.Add(marshalPayload((&identity{kind: certChain, chain: [][]byte{[]byte("leaf"), []byte("ca")}}).marshal(false), []byte("sig"), fin), false)
	f.Add(marshalPayload((&identity{kind: certReference, intent: intentRekey}).marshal(true), []byte("sig"), fin), true)
	f.Fuzz(func(t *testing.T, b []byte, initiator bool) {
		p, err := parsePayload(b, initiator)
		if err != nil {
			return
		}
		// The encoding is canonical: what parses re-encodes to the same bytes.
		if !bytes.Equal(marshalPayload(p.id.marshal(initiator), p.sig, p.finished[:]), b) {
			t.Fatal("payload is not canonical")
		}
	})
}

func FuzzParseCookieReply(f *testing.F) {
	f.Add((&cookieReply{initIndex: 1, nonce: [32]byte{2}, cookie: [16]byte{3}}).marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCookieReply(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.marshal()[:8+nonceSize+cookieSize], b[:8+nonceSize+cookieSize]) {
			t.Fatal("cookie reply does not round-trip")
		}
	})
}

func FuzzOpenRecord(f *testing.F) {
	i, _ := keypairPair(f, 1<<30)
	var buf packetBuf
	rec, err := i.seal(&buf, contentDatagram, []byte("seed"))
	require.NoError(f, err)
	f.Add(bytes.Clone(rec))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := recordIndex(b); err != nil {
			return
		}
		_, w := keypairPair(t, 1<<30)
		if _, _, _, err := w.open(bytes.Clone(b)); err == nil && !bytes.Equal(b, rec) {
			t.Fatal("a forged record authenticated")
		}
	})
}

// FuzzHandlePacket feeds arbitrary datagrams to a live endpoint's dispatch:
// whatever arrives, it must neither panic nor stop serving.
func FuzzHandlePacket(f *testing.F) {
	n := fakenet.New(1)
	pk := newTestPKI(f, "fuzz")
	conn, err := n.Listen(addrB)
	require.NoError(f, err)
	e, err := Listen(conn, testConfig(pk.node(f, "b"), PeerPolicy{Trust: pk.trust()}, newClock()))
	require.NoError(f, err)
	f.Cleanup(func() { e.Close() })
	for _, fr := range craftM1(f, 5) {
		f.Add(fr)
	}
	f.Add((&cookieReply{initIndex: 1}).marshal())
	f.Add([]byte{byte(typeRecord), 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Add([]byte{byte(typeReject), 0, 0, 0, 0, 0, 0, 1, 9, 9})
	from := netip.MustParseAddrPort(addrA)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || len(b) > readBufferSize {
			return
		}
		buf := e.getBuf()
		copy(buf[:], b)
		if !e.handlePacket(buf, len(b), from, net.UDPAddrFromAddrPort(from)) {
			e.putBuf(buf)
		}
	})
}
