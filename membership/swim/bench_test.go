package swim

import (
	"context"
	"testing"
	"time"
)

// BenchmarkReceiveKnownRecord measures receiving a record the node already
// holds, as gossip and push-pull deliver records again and again, against the
// baseline of verifying it (Ed25519 here; ML-DSA-65 verification costs more),
// timed in the same run. "ratio" is baseline cost over repeat cost.
func BenchmarkReceiveKnownRecord(b *testing.B) {
	x, a := newIdent(b, "x"), newIdent(b, "a")
	keys := NewStaticKeys(x.signer.Public(), a.signer.Public())
	rec := mustSign(b, x.signer, kindAlive, x.id, x.id, 5)

	const baselineRuns = 2000
	start := time.Now()
	for range baselineRuns {
		if err := verifyRecord(context.Background(), rec, keys, a.id, a.signer.Public(), nil); err != nil {
			b.Fatal(err)
		}
	}
	baseline := float64(time.Since(start).Nanoseconds()) / baselineRuns

	r := newRig(b, testConfig(), x, a)
	recs := []*record{rec}
	r.node.ingest(context.Background(), recs, false)
	b.ReportAllocs()
	for b.Loop() {
		r.node.ingest(context.Background(), recs, false)
	}
	if r.verify.Load() != 1 {
		b.Fatalf("verified %d times", r.verify.Load())
	}
	repeat := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(baseline, "verify-ns")
	b.ReportMetric(baseline/repeat, "ratio")
}

// BenchmarkDatagramCodec encodes and decodes a full ping: 23 notices in 1200 bytes.
func BenchmarkDatagramCodec(b *testing.B) {
	d := &datagram{typ: msgPing, seq: 42, self: alive1, notices: sampleNotices(19), repairs: sampleNotices(4)}
	buf := make([]byte, 0, 1200)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendDatagram(buf[:0], d)
		if _, err := decodeDatagram(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes")
}

// BenchmarkSignRecord signs an alive record (Ed25519 double).
func BenchmarkSignRecord(b *testing.B) {
	x := newIdent(b, "x")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := signRecord(x.signer, record{kind: kindAlive, subject: x.id, issuer: x.id, inc: 1, meta: Meta{Zone: "z"}}); err != nil {
			b.Fatal(err)
		}
	}
}
