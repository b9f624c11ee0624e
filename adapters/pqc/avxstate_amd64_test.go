package pqc

import (
	"crypto/sha256"
	"testing"
	"time"
)

// BenchmarkSHA256AfterVerify guards the VZEROUPPER fix (avxstate_amd64.go):
// it times SHA-256 of 14 KB right after an ML-DSA-65 verify and reports the
// ratio to SHA-256 from a clean AVX state measured in the same run. Without
// the fix the ratio was about 100 on this machine; with it, it stays near 1.
func BenchmarkSHA256AfterVerify(b *testing.B) {
	k, err := MLDSA65.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("transcript")
	sig, err := k.Sign(msg, nil)
	if err != nil {
		b.Fatal(err)
	}
	pub := k.Public()
	buf := make([]byte, 14000)
	var after, alone time.Duration
	for b.Loop() {
		pub.Verify(msg, nil, sig)
		t0 := time.Now()
		sha256.Sum256(buf)
		t1 := time.Now()
		vzeroupper() // a clean state for the baseline, fix or no fix
		sha256.Sum256(buf)
		t2 := time.Now()
		after += t1.Sub(t0)
		alone += t2.Sub(t1)
	}
	b.ReportMetric(float64(after)/float64(alone), "x-sha-after-verify")
}
