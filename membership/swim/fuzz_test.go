package swim

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/snowmerak/clustering/core"
)

// Fuzz targets for every parser of untrusted bytes. Each checks that decoding
// never panics and that whatever decodes re-encodes to the same bytes, so a
// message has exactly one encoding.

func FuzzDecodeDatagram(f *testing.F) {
	f.Add(appendDatagram(nil, &datagram{typ: msgPing, seq: 1, self: alive1}))
	f.Add(appendDatagram(nil, &datagram{typ: msgAck, seq: 2, self: alive1, notices: sampleNotices(2), repairs: sampleNotices(1)}))
	f.Add(appendDatagram(nil, &datagram{typ: msgPingReq, seq: 3, self: alive1, target: core.NodeID{1}, addr: netip.MustParseAddrPort("[::1]:1"), wantNack: true}))
	f.Add(appendDatagram(nil, &datagram{typ: msgGossip, self: notice{kind: kindLeave, inc: 9}, notices: sampleNotices(1)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDatagram(b)
		if err != nil {
			return
		}
		if out := appendDatagram(nil, d); !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, out)
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	x := newIdent(f, "x")
	alive := mustSign(f, x.signer, kindAlive, x.id, x.id, 5)
	f.Add(appendRequest(nil, &request{typ: reqPull, pulls: []pullEntry{{subject: x.id, needAlive: true}}}))
	f.Add(appendRequest(nil, &request{typ: reqPushPull, summary: sampleNotices(2)}))
	f.Add(appendRequest(nil, &request{typ: reqPush, records: []*record{alive}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := decodeRequest(b)
		if err != nil {
			return
		}
		if out := appendRequest(nil, q); !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, out)
		}
	})
}

func FuzzDecodeReply(f *testing.F) {
	x, a := newIdent(f, "x"), newIdent(f, "a")
	f.Add(appendReply(nil, nil))
	f.Add(appendReply(nil, []*record{mustSign(f, x.signer, kindAlive, x.id, x.id, 5), mustSign(f, a.signer, kindDead, x.id, a.id, 5)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := decodeReply(b)
		if err != nil {
			return
		}
		if out := appendReply(nil, recs); !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, out)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	x, a := newIdent(f, "x"), newIdent(f, "a")
	rec, err := signRecord(x.signer, record{kind: kindAlive, subject: x.id, issuer: x.id, inc: 5, meta: Meta{Region: "r", Labels: map[string]string{"a": "b", "c": "d"},
		Addr: netip.MustParseAddrPort("10.0.0.1:1")}, credential: []byte("cred")})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec.raw)
	f.Add(mustSign(f, a.signer, kindSuspect, x.id, a.id, 5).raw)
	f.Add(mustSign(f, x.signer, kindLeave, x.id, x.id, 5).raw)
	keys := NewStaticKeys(x.signer.Public(), a.signer.Public())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		if err := checkShape(r.kind, r.subject, r.issuer); err != nil {
			t.Fatalf("decoded a record of the wrong shape: %v", err)
		}
		var re []byte
		re = append(re, r.signedPart()...)
		re = appendBytes16(re, r.sig)
		if !bytes.Equal(re, b) {
			t.Fatalf("signed part and signature do not make up the record")
		}
		// Verifying a fuzzed record must not panic; it succeeds only for the
		// untouched seeds.
		_ = verifyRecord(t.Context(), r, keys, x.id, x.signer.Public(), r.credential)
	})
}
