package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleOutput = `goos: linux
goarch: amd64
pkg: github.com/snowmerak/clustering/adapters/pqc
cpu: Intel(R) Xeon(R) Processor
BenchmarkKEM/X-Wing/Encapsulate-2         	   10000	    120000 ns/op	  1.50 x-stdlib	    2048 B/op	      12 allocs/op
BenchmarkKEM/X-Wing/Encapsulate-2         	   10000	    100000 ns/op	  1.40 x-stdlib	    2048 B/op	      12 allocs/op
BenchmarkKEM/X-Wing/Encapsulate-2         	   10000	    110000 ns/op	  1.45 x-stdlib	    2048 B/op	      12 allocs/op
BenchmarkLogLine says something
PASS
ok  	github.com/snowmerak/clustering/adapters/pqc	12.3s
pkg: github.com/snowmerak/clustering/integration
BenchmarkTransportHandshakePQ-2 	      50	  2500000 ns/op	  1.10 full/primitives	 900.0 full-µs
`

func TestParseBenchRules(t *testing.T) {
	res, err := ParseBench(strings.NewReader(sampleOutput))
	require.NoError(t, err)
	cases := []struct {
		rule, key, unit string
		median          float64
		runs            int
	}{
		{"the GOMAXPROCS suffix is dropped and the package qualifies the name", Key("adapters/pqc", "BenchmarkKEM/X-Wing/Encapsulate"), "ns/op", 110000, 3},
		{"custom metrics are samples too", Key("adapters/pqc", "BenchmarkKEM/X-Wing/Encapsulate"), "x-stdlib", 1.45, 3},
		{"-benchmem units are kept", Key("adapters/pqc", "BenchmarkKEM/X-Wing/Encapsulate"), "allocs/op", 12, 3},
		{"a later pkg line moves to its package", Key("integration", "BenchmarkTransportHandshakePQ"), "full/primitives", 1.10, 1},
		{"units with non-ASCII letters", Key("integration", "BenchmarkTransportHandshakePQ"), "full-µs", 900, 1},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			med, n, ok := res.Median(tc.key, tc.unit)
			require.True(t, ok)
			assert.InDelta(t, tc.median, med, 1e-9)
			assert.Equal(t, tc.runs, n)
		})
	}
	assert.NotContains(t, res, Key("adapters/pqc", "BenchmarkLogLine"), "a log line is not a result")
}

func TestParseBenchRefusesDamagedResultLines(t *testing.T) {
	cases := map[string]string{
		"a value that is not a number": "BenchmarkX-2 10 abc ns/op\n",
		"a value without its unit":     "BenchmarkX-2 10 100 ns/op 5\n",
	}
	for rule, in := range cases {
		t.Run(rule, func(t *testing.T) {
			_, err := ParseBench(strings.NewReader(in))
			require.ErrorContains(t, err, "line 1")
		})
	}
}

func TestMedianIsBenchstats(t *testing.T) {
	res := Results{}
	for _, v := range []float64{5, 1, 3} {
		res.add("k", "u", v)
	}
	med, n, ok := res.Median("k", "u")
	assert.True(t, ok)
	assert.Equal(t, 3, n)
	assert.Equal(t, 3.0, med, "odd count: the middle value")
	res.add("k", "u", 4)
	med, _, _ = res.Median("k", "u")
	assert.Equal(t, 3.5, med, "even count: the mean of the middle two")
	_, _, ok = res.Median("k", "missing")
	assert.False(t, ok)
}

func TestParseSWIMReadsDetectionTimes(t *testing.T) {
	out := "=== RUN   TestSimCrashed\n" +
		"    sim_crash_test.go:59: N=20 LAN: detection median 7.8s, max 7.9s (bound 1m0s); steady state 2.0 msgs\n" +
		"    sim_crash_test.go:59: N=64 LAN: detection median 8.4s, max 8.55s (bound 1m50s); steady state\n"
	res, err := ParseSWIM(strings.NewReader(out))
	require.NoError(t, err)
	med, _, ok := res.Median(SWIMKey(20), "detection-median-s")
	require.True(t, ok)
	assert.InDelta(t, 7.8, med, 1e-9)
	worst, _, _ := res.Median(SWIMKey(64), "detection-max-s")
	assert.InDelta(t, 8.55, worst, 1e-9)
}

// FuzzParseBench feeds arbitrary output to the parsers: they must not
// panic, and every sample they return is under a named benchmark and unit.
func FuzzParseBench(f *testing.F) {
	f.Add(sampleOutput)
	f.Add("BenchmarkX-2 1 1 ns/op\n")
	f.Add("pkg: x\nBenchmark 1 2 3 4\n")
	f.Add("N=20 LAN: detection median 1s, max 2s\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (Results, error){
			func(s string) (Results, error) { return ParseBench(strings.NewReader(s)) },
			func(s string) (Results, error) { return ParseSWIM(strings.NewReader(s)) },
		} {
			res, err := parse(s)
			if err != nil {
				continue
			}
			for k, units := range res {
				if k == "" {
					t.Fatal("empty benchmark key")
				}
				for u, vs := range units {
					if u == "" || len(vs) == 0 {
						t.Fatalf("%q: empty unit or no samples", k)
					}
				}
			}
		}
	})
}

func ExampleParseBench() {
	out := "pkg: github.com/snowmerak/clustering/membership\n" +
		"BenchmarkOwner/Owner/N=1000-2  100000000  4.1 ns/op  0 B/op  0 allocs/op\n" +
		"BenchmarkOwner/Owner/N=1000-2  100000000  4.3 ns/op  0 B/op  0 allocs/op\n" +
		"BenchmarkOwner/Owner/N=1000-2  100000000  4.2 ns/op  0 B/op  0 allocs/op\n"
	res, _ := ParseBench(strings.NewReader(out))
	med, n, _ := res.Median(Key("membership", "BenchmarkOwner/Owner/N=1000"), "ns/op")
	fmt.Printf("median %.1f ns/op over %d runs\n", med, n)
	// Output: median 4.2 ns/op over 3 runs
}
