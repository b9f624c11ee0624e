package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func results(samples map[string]map[string]float64) Results {
	res := Results{}
	for k, units := range samples {
		for u, v := range units {
			res.add(k, u, v)
		}
	}
	return res
}

func TestEvaluateVerdicts(t *testing.T) {
	runs := Results{}
	for _, v := range []float64{14, 7, 13} {
		runs.add("b", "quiet-ns", v)
		runs.add("b", "seed-ns", 2*v)
	}
	quietGoal := Goal{Value: Metric{"b", "quiet-ns"}, Baseline: Metric{"b", "seed-ns"}, CheckValue: true, Compare: AtMost, Target: 10}
	lowest := quietGoal
	lowest.Lowest = true
	ratioGoal := Goal{Name: "x ≤ 1.2× y", Value: Metric{"b", "x"}, Baseline: Metric{"b", "y"}, Ratio: Metric{"b", "x/y"}, Compare: AtMost, Target: 1.2}
	cases := []struct {
		rule    string
		goal    Goal
		res     Results
		verdict Verdict
		note    string
	}{
		{"a ratio within the target passes", ratioGoal,
			results(map[string]map[string]float64{"b": {"x": 11, "y": 10, "x/y": 1.1}}), Pass, ""},
		{"a ratio past the target misses, saying by how much", ratioGoal,
			results(map[string]map[string]float64{"b": {"x": 13, "y": 10, "x/y": 1.3}}), Miss, "ratio 1.3, target ≤ 1.2"},
		{"a missing figure is not measured, never a pass", ratioGoal, Results{}, NotMeasured, "no x result for b"},
		{"a missing ratio is not measured", ratioGoal,
			results(map[string]map[string]float64{"b": {"x": 11}}), NotMeasured, "ratio is missing"},
		{"without a ratio metric the ratio is value over baseline",
			Goal{Value: Metric{"b", "x"}, Baseline: Metric{"b", "y"}, Compare: AtLeast, Target: 0.8},
			results(map[string]map[string]float64{"b": {"x": 7, "y": 10}}), Miss, "ratio 0.7, target ≥ 0.8"},
		{"a value goal checks the value", Goal{Value: Metric{"b", "ns/op"}, CheckValue: true, Compare: AtMost, Target: 10},
			results(map[string]map[string]float64{"b": {"ns/op": 4}}), Pass, ""},
		{"allocations fail a zero-allocation goal", Goal{Value: Metric{"b", "ns/op"}, CheckValue: true, Compare: AtMost, Target: 10, ZeroAllocs: true},
			results(map[string]map[string]float64{"b": {"ns/op": 4, "allocs/op": 1}}), Miss, "1 allocs/op"},
		{"a published baseline", Goal{Value: Metric{"b", "s"}, BaselineConst: 8.6, Compare: AtMost, Target: 1},
			results(map[string]map[string]float64{"b": {"s": 9.0}}), Miss, "target ≤ 1"},
		{"a figure without a target is reported", Goal{Value: Metric{"b", "ns/op"}},
			results(map[string]map[string]float64{"b": {"ns/op": 4}}), Reported, ""},
		{"a goal on the lowest run takes the lowest run's value and baseline", lowest, runs, Pass, ""},
		{"other goals take the median run", quietGoal, runs, Miss, "value 13, target ≤ 10"},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			row := Evaluate(tc.goal, tc.res)
			assert.Equal(t, tc.verdict, row.Verdict)
			assert.Contains(t, row.Note, tc.note)
		})
	}
	row := Evaluate(lowest, runs)
	assert.Equal(t, []float64{7, 14, 0.5}, []float64{row.Value, row.Baseline, row.Ratio}, "the lowest run's value and baseline")
}

// Every goal reads a benchmark of a package some suite runs, so a renamed
// package or a typo cannot silently turn a goal into "not measured".
func TestGoalsReadPackagesTheSuitesRun(t *testing.T) {
	pkgs := map[string]bool{}
	for _, s := range Suites() {
		pkgs[strings.TrimPrefix(s.Package, "./")] = true
	}
	issues := map[int]bool{}
	for _, g := range Goals() {
		pkg, _, _ := strings.Cut(g.Value.Bench, " ")
		assert.True(t, pkgs[pkg], "goal %q reads %q, which no suite runs", g.Name, g.Value.Bench)
		issues[g.Issue] = true
	}
	for _, issue := range []int{2, 3, 4, 5, 7, 8} {
		assert.True(t, issues[issue], "issue %d has no goal", issue)
	}
}

func TestReportShowsEveryGoalAndWhyOneIsNotMeasured(t *testing.T) {
	res := results(map[string]map[string]float64{
		Key("cmd/cpki", "BenchmarkVerifyChainMLDSA65"): {"verify-ns/op": 1100, "sigs-ns/op": 1000, "x-sigs": 1.1},
	})
	rep := Report{Machine: Machine{CPU: "test CPU", Cores: 2, LoadStart: "0.1 0.2 0.3"}, Command: "benchreport", Count: 5, All: res}
	for _, g := range Goals() {
		rep.Rows = append(rep.Rows, Evaluate(g, res))
	}
	var b bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&b))
	md := b.String()
	assert.Contains(t, md, "| 3 | ML-DSA-65 chain verify ≤ 1.2× its signature verifications | 1100 | 1000 | 1.100× | pass |")
	assert.Contains(t, md, "not measured: no detection-median-s result")
	assert.Contains(t, md, "test CPU")
	assert.Contains(t, md, "0.1 0.2 0.3")
	goals := md[strings.Index(md, "## Goals"):strings.Index(md, "## Commands")]
	assert.Equal(t, len(Goals())+2, strings.Count(goals, "\n|"), "one table row per goal, after the header and its rule")
}
