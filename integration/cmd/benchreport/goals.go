package main

import (
	"fmt"
	"math"
)

// Comparison is how a goal's figure is held to its target.
type Comparison int

// The comparisons a goal can make; NoTarget reports a figure without one.
const (
	NoTarget Comparison = iota
	AtMost
	LessThan
	AtLeast
)

// Metric names one benchmark figure: a Results key and a unit.
type Metric struct {
	Bench, Unit string
}

// Goal is one row of the report: a goal set by an issue, the benchmark
// figure that measures it, its baseline, and the figure held to the target.
type Goal struct {
	// Issue is the number of the issue that set the goal.
	Issue int
	// Name states the goal.
	Name string
	// Value is the measured figure; Baseline the figure it is compared with
	// (zero Metric: none; BaselineConst: a fixed published number).
	Value, Baseline Metric
	// BaselineConst is a published baseline (memberlist's 8.6 s), used when
	// Baseline is the zero Metric.
	BaselineConst float64
	// Ratio is the benchmark's own ratio metric (median over runs); zero
	// Metric: Value ÷ baseline.
	Ratio Metric
	// Check is compared with Target: "ratio" (default) or "value".
	CheckValue bool
	Compare    Comparison
	Target     float64
	// Lowest takes Value and Baseline from the lowest run instead of the
	// median: for a figure the host's load can only inflate, such as a cost
	// measured while the host is quiet, which some runs may find no time of.
	Lowest bool
	// ZeroAllocs also requires allocs/op of Value's benchmark to be 0.
	ZeroAllocs bool
	// Missing explains a figure that is absent (what to run to get it).
	Missing string
}

// Verdict is the outcome of one goal.
type Verdict string

// The verdicts.
const (
	Pass        Verdict = "pass"
	Miss        Verdict = "miss"
	Reported    Verdict = "reported"
	NotMeasured Verdict = "not measured"
)

// Row is a goal evaluated against results.
type Row struct {
	Goal
	Value, Baseline, Ratio float64
	HasBaseline, HasRatio  bool
	Runs                   int
	Verdict                Verdict
	// Note says why a goal was not measured or missed.
	Note string
}

// Evaluate computes a goal's figures and verdict from results.
func Evaluate(g Goal, res Results) Row {
	r := Row{Goal: g}
	figure := res.Median
	if g.Lowest {
		figure = res.Lowest
	}
	v, n, ok := figure(g.Value.Bench, g.Value.Unit)
	if !ok {
		r.Verdict, r.Note = NotMeasured, fmt.Sprintf("no %s result for %s. %s", g.Value.Unit, g.Value.Bench, g.Missing)
		return r
	}
	r.Value, r.Runs = v, n
	switch {
	case g.Baseline != Metric{}:
		r.Baseline, _, r.HasBaseline = figure(g.Baseline.Bench, g.Baseline.Unit)
	case g.BaselineConst != 0:
		r.Baseline, r.HasBaseline = g.BaselineConst, true
	}
	if g.Ratio != (Metric{}) {
		r.Ratio, _, r.HasRatio = res.Median(g.Ratio.Bench, g.Ratio.Unit)
	} else if r.HasBaseline && r.Baseline != 0 {
		r.Ratio, r.HasRatio = r.Value/r.Baseline, true
	}
	if g.Compare == NoTarget {
		r.Verdict = Reported
		return r
	}
	checked, what := r.Ratio, "ratio"
	if g.CheckValue {
		checked, what = r.Value, "value"
	} else if !r.HasRatio {
		r.Verdict, r.Note = NotMeasured, "the baseline or ratio is missing"
		return r
	}
	r.Verdict = Pass
	if !g.Compare.holds(checked, g.Target) {
		r.Verdict, r.Note = Miss, fmt.Sprintf("%s %.3g, target %s %.3g", what, checked, g.Compare, g.Target)
	}
	if g.ZeroAllocs {
		allocs, _, ok := res.Median(g.Value.Bench, "allocs/op")
		switch {
		case !ok:
			r.Verdict, r.Note = NotMeasured, "allocs/op missing (run with -benchmem)"
		case allocs != 0:
			r.Verdict, r.Note = Miss, fmt.Sprintf("%g allocs/op, target 0", allocs)
		}
	}
	return r
}

func (c Comparison) holds(x, target float64) bool {
	if math.IsNaN(x) {
		return false
	}
	switch c {
	case AtMost:
		return x <= target
	case LessThan:
		return x < target
	case AtLeast:
		return x >= target
	}
	return true
}

// String is the comparison's symbol.
func (c Comparison) String() string {
	switch c {
	case AtMost:
		return "≤"
	case LessThan:
		return "<"
	case AtLeast:
		return "≥"
	}
	return ""
}

// memberlistDetection is memberlist's measured crash detection time at
// N = 20 with LAN settings (issue 7).
const memberlistDetection = 8.6

// Goals returns every goal the issues set, in issue order.
func Goals() []Goal {
	pqc := func(name string) string { return Key("adapters/pqc", name) }
	integ := func(name string) string { return Key("integration", name) }
	var gs []Goal
	for _, op := range []string{"KeyGen", "Sign", "Verify/held-key", "Verify/cold-parse"} {
		gs = append(gs, Goal{Issue: 2, Name: "ML-DSA-65 " + op + " (median)",
			Value: Metric{pqc("BenchmarkMLDSA/ML-DSA-65/" + op), "ns/op"}})
	}
	for _, kem := range []string{"X-Wing", "ML-KEM-768", "ML-KEM-1024"} {
		for _, op := range []string{"KeyGen", "Encapsulate", "Decapsulate"} {
			gs = append(gs, Goal{Issue: 2, Name: kem + " " + op + " vs Go crypto/mlkem ML-KEM-768",
				Value:    Metric{pqc("BenchmarkKEM/" + kem + "/" + op), "ns/op"},
				Baseline: Metric{pqc("BenchmarkKEM/stdlib-ML-KEM-768/" + op), "ns/op"}})
		}
	}
	for _, op := range []string{"Seal", "Open"} {
		gs = append(gs, Goal{Issue: 2, Name: "XChaCha20-Poly1305 " + op + " 1 KiB vs AES-256-GCM",
			Value:    Metric{pqc("BenchmarkAEAD/XChaCha20-Poly1305/" + op + "/1024B"), "ns/op"},
			Baseline: Metric{pqc("BenchmarkAEAD/AES-256-GCM/" + op + "/1024B"), "ns/op"}})
	}
	chain := Key("cmd/cpki", "BenchmarkVerifyChainMLDSA65")
	gs = append(gs, Goal{Issue: 3, Name: "ML-DSA-65 chain verify ≤ 1.2× its signature verifications",
		Value: Metric{chain, "verify-ns/op"}, Baseline: Metric{chain, "sigs-ns/op"}, Ratio: Metric{chain, "x-sigs"},
		Compare: AtMost, Target: 1.2})
	hs, st := integ("BenchmarkTransportHandshakePQ"), integ("BenchmarkTransportStreamPQ")
	gs = append(gs,
		Goal{Issue: 4, Name: "PQ handshake ≤ 1.25× the sum of its primitives (µs)",
			Value: Metric{hs, "full-µs"}, Baseline: Metric{hs, "primitives-µs"}, Ratio: Metric{hs, "full/primitives"},
			Compare: AtMost, Target: 1.25},
		Goal{Issue: 4, Name: "handshake with chain by reference < TLS 1.3 X25519MLKEM768 (µs)",
			Value: Metric{hs, "reference-µs"}, Baseline: Metric{hs, "tls13-µs"}, Ratio: Metric{hs, "reference/tls13"},
			Compare: LessThan, Target: 1},
		Goal{Issue: 4, Name: "stream throughput ≥ 0.8× raw kcp-go (MB/s)",
			Value: Metric{st, "transport-MB/s"}, Baseline: Metric{st, "raw-MB/s"}, Ratio: Metric{st, "throughput-ratio"},
			Compare: AtLeast, Target: 0.8},
		Goal{Issue: 4, Name: "64-byte round trip p50 ≤ 1.2× raw kcp-go (µs)",
			Value: Metric{st, "transport-p50-µs"}, Baseline: Metric{st, "raw-p50-µs"}, Ratio: Metric{st, "rtt-ratio"},
			Compare: AtMost, Target: 1.2},
	)
	owner := func(name string) string { return Key("membership", "BenchmarkOwner/"+name) }
	for _, n := range []int{10, 100, 1000} {
		o := owner(fmt.Sprintf("Owner/N=%d", n))
		gs = append(gs,
			Goal{Issue: 5, Name: fmt.Sprintf("lookup ≤ 10 ns while the host is quiet, 0 allocs, N=%d (ns, median of the quiet passes over 1024 hot keys, lowest of the runs; baseline: the seed's placement)", n),
				Value: Metric{o, "quiet-ns"}, Baseline: Metric{o, "seed-quiet-ns"}, Lowest: true,
				CheckValue: true, Compare: AtMost, Target: 10, ZeroAllocs: true},
			Goal{Issue: 5, Name: fmt.Sprintf("lookup, median pass (the host's busy periods included), N=%d (ns; baseline: xxh3 of the key alone)", n),
				Value: Metric{o, "ns/op"}, Baseline: Metric{o, "hash-ns"}, Ratio: Metric{o, "x-hash"}})
	}
	for _, n := range []int{10, 100, 1000} {
		gs = append(gs, Goal{Issue: 5, Name: fmt.Sprintf("lookup of uncached random keys, N=%d (ns; baseline: the lookup of 1024 hot keys)", n),
			Value: Metric{owner(fmt.Sprintf("OwnerRandomKeys/N=%d", n)), "ns/op"}, Baseline: Metric{owner(fmt.Sprintf("Owner/N=%d", n)), "ns/op"}})
	}
	for _, n := range []int{10, 100, 1000} {
		q := integ(fmt.Sprintf("BenchmarkPlacementQuality/N=%d", n))
		gs = append(gs,
			Goal{Issue: 5, Name: fmt.Sprintf("join moves ≤ 1.1× the ideal share, N=%d", n),
				Value: Metric{q, "join/ideal"}, CheckValue: true, Compare: AtMost, Target: 1.1},
			Goal{Issue: 5, Name: fmt.Sprintf("leave moves ≤ 1.1× the ideal share, N=%d", n),
				Value: Metric{q, "leave/ideal"}, CheckValue: true, Compare: AtMost, Target: 1.1},
			Goal{Issue: 5, Name: fmt.Sprintf("weighted load max/expected ≤ 1.05, N=%d", n),
				Value: Metric{q, "max/expected"}, CheckValue: true, Compare: AtMost, Target: 1.05},
			Goal{Issue: 5, Name: fmt.Sprintf("for contrast, the seed's range scheme: one join moves, N=%d (× the ideal share; baseline: this placement)", n),
				Value: Metric{Key("membership", fmt.Sprintf("BenchmarkSeedMovement/N=%d", n)), "join/ideal"}, Baseline: Metric{q, "join/ideal"}})
	}
	gs = append(gs, Goal{Issue: 7, Name: "SWIM crash detection, N=20, vs memberlist's measured 8.6 s (s, median)",
		Value: Metric{SWIMKey(20), "detection-median-s"}, BaselineConst: memberlistDetection,
		Compare: AtMost, Target: 1,
		Missing: "membership/swim's crash simulation (TestSimCrashedMemberIsDeclaredDeadByAllWithinBound) printed no N=20 detection line; the package is still being written."})
	for _, op := range []string{"Put", "List"} {
		e := func(sub string) string { return Key("adapters/etcdrepo", "Benchmark"+op+"/"+sub) }
		gs = append(gs, Goal{Issue: 8, Name: "etcd " + op + " at 1000 members vs the raw etcd client (ns)",
			Value: Metric{e("etcd"), "ns/op"}, Baseline: Metric{e("etcd-raw"), "ns/op"}, Ratio: Metric{e("etcd"), "x-raw"}})
	}
	return gs
}
