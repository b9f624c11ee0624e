package swim

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
)

func sampleNotices(n int) []notice {
	out := make([]notice, n)
	for i := range out {
		out[i] = notice{subject: core.NodeID{byte(i), 1}, kind: kind(i%4 + 1), inc: uint64(1000 + i), digest: digest{byte(i), 2, 3}}
	}
	return out
}

var alive1 = notice{kind: kindAlive, inc: 1}

func TestDatagramRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		d    datagram
	}{
		{"ping", datagram{typ: msgPing, seq: 7, self: notice{kind: kindAlive, inc: 12, digest: digest{1}}}},
		{"ack with notices", datagram{typ: msgAck, seq: 1 << 31, self: alive1, notices: sampleNotices(3)}},
		{"nack from a departed member", datagram{typ: msgNack, seq: 9, self: notice{kind: kindLeave, inc: 3}, repairs: sampleNotices(1)}},
		{"ping-req v4", datagram{typ: msgPingReq, seq: 3, self: alive1, target: core.NodeID{9}, addr: netip.MustParseAddrPort("10.1.2.3:7946"), wantNack: true}},
		{"ping-req v6", datagram{typ: msgPingReq, seq: 3, self: alive1, target: core.NodeID{9}, addr: netip.MustParseAddrPort("[2001:db8::1]:7946")}},
		{"ping-req no address", datagram{typ: msgPingReq, seq: 3, self: alive1, target: core.NodeID{9}}},
		{"gossip with both lists", datagram{typ: msgGossip, self: alive1, notices: sampleNotices(5), repairs: sampleNotices(2)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := appendDatagram(nil, &tc.d)
			// headerSize is exact, except that it reserves the longest address.
			require.Len(t, b, tc.d.headerSize()+(len(tc.d.notices)+len(tc.d.repairs))*noticeSize-unusedAddr(tc.d))
			got, err := decodeDatagram(b)
			require.NoError(t, err)
			require.Equal(t, tc.d, *got)
			require.Equal(t, b, appendDatagram(nil, got))
		})
	}
}

// unusedAddr is how much of headerSize's 18-byte address reserve d leaves unused.
func unusedAddr(d datagram) int {
	switch {
	case d.typ != msgPingReq:
		return 0
	case !d.addr.IsValid():
		return 18
	case d.addr.Addr().Is4():
		return 12
	}
	return 0
}

func TestDatagramDecodingRejects(t *testing.T) {
	ping := appendDatagram(nil, &datagram{typ: msgPing, seq: 1, self: alive1, notices: sampleNotices(1)})
	const at = 6 + selfNoticeSize // first byte after a ping's self-notice
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"wrong version", append([]byte{2}, ping[1:]...)},
		{"unknown type", append([]byte{1, 99}, ping[2:]...)},
		{"truncated seq", ping[:4]},
		{"notice count beyond the data", append(append([]byte(nil), ping[:at]...), 3)},
		{"self-notice of an accusation", func() []byte { b := append([]byte(nil), ping...); b[6] = byte(kindSuspect); return b }()},
		{"self-notice of no kind", func() []byte { b := append([]byte(nil), ping...); b[6] = 0; return b }()},
		{"trailing byte", append(append([]byte(nil), ping...), 0)},
		{"unknown notice kind", func() []byte { b := append([]byte(nil), ping...); b[at+1+32] = 9; return b }()},
		{"unknown ping-req flag", func() []byte {
			b := appendDatagram(nil, &datagram{typ: msgPingReq, seq: 1, self: alive1})
			b[6] = 2
			return b
		}()},
		{"bad address length", func() []byte {
			b := appendDatagram(nil, &datagram{typ: msgPingReq, seq: 1, self: alive1})
			b[7+32] = 5
			return b
		}()},
		{"IPv4-mapped address in the 16-byte form", func() []byte {
			b := appendDatagram(nil, &datagram{typ: msgPingReq, seq: 1, self: alive1})[:7+32]
			b = append(b, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1, 0x1f, 0x0a)
			b = appendDatagram(b, &datagram{typ: msgGossip, self: alive1})[2:] // self-notice and counts
			return b
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeDatagram(tc.b)
			require.ErrorIs(t, err, core.ErrInvalidInput)
		})
	}
}

func TestRequestAndReplyRoundTrip(t *testing.T) {
	x := newIdent(t, "x")
	a := newIdent(t, "a")
	alive, err := signRecord(x.signer, record{kind: kindAlive, subject: x.id, issuer: x.id, inc: 5, meta: Meta{Region: "eu", Zone: "eu-1", Rack: "r7", Weight: 3,
		Addr: netip.MustParseAddrPort("10.0.0.9:7946"), Labels: map[string]string{"b": "2", "a": "1"}}, credential: []byte("certificate chain")})
	require.NoError(t, err)
	accusation := mustSign(t, a.signer, kindSuspect, x.id, a.id, 5)

	for _, q := range []request{
		{typ: reqPull, pulls: []pullEntry{{subject: x.id, digest: alive.digest(), needAlive: true}, {subject: a.id}}},
		{typ: reqPushPull, summary: sampleNotices(4)},
		{typ: reqPushPull},
		{typ: reqPush, records: []*record{alive, accusation}},
	} {
		b := appendRequest(nil, &q)
		got, err := decodeRequest(b)
		require.NoError(t, err)
		require.Equal(t, b, appendRequest(nil, got))
	}
	b := appendReply(nil, []*record{alive, accusation})
	recs, err := decodeReply(b)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.Equal(t, alive.hash, recs[0].hash)
	require.True(t, alive.meta.Equal(recs[0].meta))
	require.Equal(t, []byte("certificate chain"), recs[0].credential)
	require.Equal(t, accusation.hash, recs[1].hash)
}

func TestRequestDecodingRejects(t *testing.T) {
	x := newIdent(t, "x")
	alive := mustSign(t, x.signer, kindAlive, x.id, x.id, 5)
	push := appendRequest(nil, &request{typ: reqPush, records: []*record{alive}})
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown type", []byte{1, 77}},
		{"pull count beyond the data", []byte{1, byte(reqPull), 0, 5}},
		{"pull count beyond the limit", []byte{1, byte(reqPull), 0xff, 0xff}},
		{"summary count beyond the data", []byte{1, byte(reqPushPull), 0, 0, 1, 0}},
		{"push record truncated", push[:len(push)-1]},
		{"push record with a flipped kind", func() []byte { b := append([]byte(nil), push...); b[2+2+4+1] = 9; return b }()},
		{"push trailing byte", append(append([]byte(nil), push...), 0)},
		{"push record length beyond the limit", []byte{1, byte(reqPush), 0, 1, 0xff, 0xff, 0xff, 0xff}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeRequest(tc.b)
			require.ErrorIs(t, err, core.ErrInvalidInput)
		})
	}
	_, err := decodeReply([]byte{1, byte(reqPull), 0, 0, 0, 0})
	require.ErrorIs(t, err, core.ErrInvalidInput, "a reply must have the reply type")
}

func TestRecordEncodingIsCanonical(t *testing.T) {
	x := newIdent(t, "x")
	meta := Meta{Zone: "z", Labels: map[string]string{"k2": "v", "k1": "v", "k3": "v"}}
	r1, err := signRecord(x.signer, record{kind: kindAlive, subject: x.id, issuer: x.id, inc: 1, meta: meta})
	require.NoError(t, err)
	r2, err := signRecord(x.signer, record{kind: kindAlive, subject: x.id, issuer: x.id, inc: 1, meta: meta.Clone()})
	require.NoError(t, err)
	require.Equal(t, r1.signedPart(), r2.signedPart(), "one Meta, one encoding")

	// Labels out of order are refused, so a record has one valid encoding.
	b := append([]byte(nil), r1.signedPart()...)
	i := bytes.Index(b, []byte("k1"))
	j := bytes.Index(b, []byte("k2"))
	b[i+1], b[j+1] = '2', '1'
	b = appendBytes16(b, r1.sig)
	_, err = decodeRecord(b)
	require.ErrorIs(t, err, core.ErrInvalidInput)
}
