package trust

import (
	"context"
	"testing"
	"time"

	"github.com/snowmerak/clustering/adapters/pqc"
)

// BenchmarkResolveKey measures a cached key lookup, the cost SWIM pays per
// record it verifies, against a baseline measured in the same run: a full
// verification of an ML-DSA-65 leaf + intermediate chain (what a cache miss
// costs). x-baseline is the cached lookup's time relative to it.
func BenchmarkResolveKey(b *testing.B) {
	f := newFixture(b)
	ts := f.store(b)
	cred := f.ids["a"].Credential()
	ctx := context.Background()
	cold := func() {
		r := NewResolver(ResolverConfig{Trust: ts, Schemes: pqc.SignatureSchemes()})
		if _, err := r.ResolveKey(ctx, f.a.ID, cred); err != nil {
			b.Fatal(err)
		}
	}
	warm := NewResolver(ResolverConfig{Trust: ts, Schemes: pqc.SignatureSchemes()})
	cold()
	b.ReportAllocs()
	b.ResetTimer()
	begin := time.Now()
	for range b.N {
		cold()
	}
	baseline := time.Since(begin)
	b.ResetTimer()
	for range b.N {
		if _, err := warm.ResolveKey(ctx, f.a.ID, cred); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(baseline.Nanoseconds())/float64(b.N), "verify-ns/op")
	b.ReportMetric(float64(b.Elapsed())/float64(baseline), "x-baseline")
}
