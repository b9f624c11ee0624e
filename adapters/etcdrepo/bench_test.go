package etcdrepo_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/snowmerak/clustering/adapters/etcdrepo"
	"github.com/snowmerak/clustering/adapters/etcdrepo/internal/etcdtest"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
	"github.com/snowmerak/clustering/core/memberlog"
)

// benchMembers is the registry size of the benchmarks.
const benchMembers = 1000

// Benchmarks run three sub-benchmarks over the same 1,000 members, in this
// order: "memory" (core/memberlog, the table behind memrepo; no I/O), "etcd-raw" (the etcd client
// alone, with the stored bytes, against the same embedded server) and
// "etcd" (this adapter). The etcd one reports its time as ratios to the
// other two measured in the same run: "x-raw" is the adapter's cost over
// etcd itself (encoding, validation, transactions), "x-memory" the price of
// a shared registry. A ratio is left out when its baseline was filtered out.

// nsPerOp is the time per iteration of a finished b.Loop.
func nsPerOp(b *testing.B) float64 {
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// reportRatio reports num/den under unit when both were measured.
func reportRatio(b *testing.B, num, den float64, unit string) {
	if num > 0 && den > 0 {
		b.ReportMetric(num/den, unit)
	}
}

// benchSetup starts etcd with benchMembers members under /bench/ and
// returns the adapter, a raw client, an in-memory table with the same members and
// the members.
func benchSetup(b *testing.B) (*etcdrepo.Repo, *clientv3.Client, *memberlog.Table, []core.Member) {
	s := etcdtest.New(b, etcdtest.Options{})
	r := openRepo(b, s, "/bench/")
	raw := rawClient(b, s)
	mem := memberlog.New(memberlog.Config{Name: "memory"})
	b.Cleanup(func() { _ = mem.Close() })
	ms := repotest.NewMembers(b, benchMembers)
	putAll(b, r, ms)
	putAll(b, mem, ms)
	return r, raw, mem, ms
}

func BenchmarkPut(b *testing.B) {
	r, raw, mem, ms := benchSetup(b)
	ctx := context.Background()
	stored, err := raw.Get(ctx, "/bench/", clientv3.WithPrefix())
	require.NoError(b, err)
	require.Len(b, stored.Kvs, benchMembers)
	var memNs, rawNs float64

	// update changes one member's weight, as an operator or a rebalancer does.
	update := func(i int) core.Member {
		m := ms[i%benchMembers]
		m.Weight = 1 + i%9
		return m
	}
	b.Run("memory", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := mem.Put(ctx, update(i), core.AnyRevision); err != nil {
				b.Fatal(err)
			}
			i++
		}
		memNs = nsPerOp(b)
	})
	b.Run("etcd-raw", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			kv := stored.Kvs[i%benchMembers]
			if _, err := raw.Put(ctx, string(kv.Key), string(kv.Value)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		rawNs = nsPerOp(b)
	})
	b.Run("etcd", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := r.Put(ctx, update(i), core.AnyRevision); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportRatio(b, nsPerOp(b), rawNs, "x-raw")
		reportRatio(b, nsPerOp(b), memNs, "x-memory")
	})
}

func BenchmarkList(b *testing.B) {
	r, raw, mem, _ := benchSetup(b)
	ctx := context.Background()
	var memNs, rawNs float64
	list := func(b *testing.B, repo core.MemberRepo) {
		b.ReportAllocs()
		for b.Loop() {
			ms, _, err := repo.List(ctx)
			if err != nil || len(ms) != benchMembers {
				b.Fatalf("List: %d members, %v", len(ms), err)
			}
		}
	}
	b.Run("memory", func(b *testing.B) {
		list(b, mem)
		memNs = nsPerOp(b)
	})
	b.Run("etcd-raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := raw.Get(ctx, "/bench/", clientv3.WithPrefix())
			if err != nil || len(resp.Kvs) != benchMembers {
				b.Fatalf("Get: %d keys, %v", len(resp.Kvs), err)
			}
		}
		rawNs = nsPerOp(b)
	})
	b.Run("etcd", func(b *testing.B) {
		list(b, r)
		reportRatio(b, nsPerOp(b), rawNs, "x-raw")
		reportRatio(b, nsPerOp(b), memNs, "x-memory")
	})
}
