package pki

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkVerifyChain verifies leaf → intermediate → root. Each iteration
// also times the two signature verifications a chain cannot avoid, right
// next to Verify so that machine load affects both alike, and "x-sigs" is
// the median over iterations of Verify's time over theirs (the goal is
// ≤ 1.2). With Ed25519 the signatures are cheap, so this ratio bounds from
// above the overhead that BenchmarkVerifyChainMLDSA65 in cmd/cpki sees.
//
// The store's signature memo is off here, so every Verify checks both
// signatures as a first contact does; BenchmarkVerifyChainMemo measures a
// chain seen before. Verify checks the two signatures at once on two
// goroutines, so with two free cores its wall time can be below that of
// the two checks made one after the other (the CPU time is not).
func BenchmarkVerifyChain(b *testing.B) {
	p := newTestPKI(b)
	ts := p.store()
	ts.SetSignatureMemoSize(0)
	chain := []*Certificate{p.leaf, p.inter}
	opts := VerifyOptions{Now: t0}
	checkSigs := func() {
		if p.leaf.CheckSignatureFrom(p.inter) != nil || p.inter.CheckSignatureFrom(p.root) != nil {
			b.Fatal("signature")
		}
	}
	verifyChain := func() {
		if _, err := ts.Verify(chain, opts); err != nil {
			b.Fatal(err)
		}
	}
	var sigs, verify time.Duration
	var ratios []float64
	for i := 0; b.Loop(); i++ {
		// Alternate which runs first so that neither always has a warm cache.
		first, second := checkSigs, verifyChain
		if i%2 == 1 {
			first, second = verifyChain, checkSigs
		}
		t1 := time.Now()
		first()
		t2 := time.Now()
		second()
		d1, d2 := t2.Sub(t1), time.Since(t2)
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		sigs += d1
		verify += d2
		ratios = append(ratios, float64(d2)/float64(d1))
	}
	slices.Sort(ratios)
	b.ReportMetric(float64(sigs.Nanoseconds())/float64(b.N), "sigs-ns/op")
	b.ReportMetric(float64(verify.Nanoseconds())/float64(b.N), "verify-ns/op")
	b.ReportMetric(ratios[len(ratios)/2], "x-sigs")
}

// BenchmarkVerifyChainMemo verifies a chain whose signatures the store's
// memo already holds (a peer seen before): every rule but the signatures
// still runs. "x-sigs" is Verify's time over the two signature
// verifications it skips, measured next to it.
func BenchmarkVerifyChainMemo(b *testing.B) {
	p := newTestPKI(b)
	ts := p.store()
	chain := []*Certificate{p.leaf, p.inter}
	opts := VerifyOptions{Now: t0}
	if _, err := ts.Verify(chain, opts); err != nil {
		b.Fatal(err)
	}
	var sigs, verify time.Duration
	for b.Loop() {
		t1 := time.Now()
		if p.leaf.CheckSignatureFrom(p.inter) != nil || p.inter.CheckSignatureFrom(p.root) != nil {
			b.Fatal("signature")
		}
		t2 := time.Now()
		if _, err := ts.Verify(chain, opts); err != nil {
			b.Fatal(err)
		}
		sigs += t2.Sub(t1)
		verify += time.Since(t2)
	}
	b.ReportMetric(float64(sigs.Nanoseconds())/float64(b.N), "sigs-ns/op")
	b.ReportMetric(float64(verify.Nanoseconds())/float64(b.N), "verify-ns/op")
	b.ReportMetric(float64(verify)/float64(sigs), "x-sigs")
}

// BenchmarkParseChain compares parsing a peer's chain cold with ParseChain
// reusing the intermediate and root a trust store already holds.
func BenchmarkParseChain(b *testing.B) {
	p := newTestPKI(b)
	ders := [][]byte{p.leaf.Raw, p.inter.Raw, p.root.Raw}
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, der := range ders {
				if _, err := ParseCertificate(der, testSchemes); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("trust-store-cache", func(b *testing.B) {
		ts := p.store()
		chain, err := ts.ParseChain(ders, testSchemes)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ts.Verify(chain, VerifyOptions{Now: t0}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ts.ParseChain(ders, testSchemes); err != nil {
				b.Fatal(err)
			}
		}
	})
}
