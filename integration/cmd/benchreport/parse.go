package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Results holds benchmark samples: for each benchmark (package-qualified
// name) and unit, one value per run. -count 5 gives five values.
type Results map[string]map[string][]float64

// Key is how Results names a benchmark: the package path relative to the
// workspace module prefix, a space, and the benchmark's name without its
// GOMAXPROCS suffix ("adapters/pqc BenchmarkKEM/X-Wing/Encapsulate").
func Key(pkg, name string) string { return pkg + " " + name }

// add records one sample.
func (r Results) add(key, unit string, v float64) {
	if r[key] == nil {
		r[key] = map[string][]float64{}
	}
	r[key][unit] = append(r[key][unit], v)
}

// Median returns the median of a benchmark's samples in unit (the mean of
// the middle two for an even count, as benchstat does) and how many
// samples there were; ok is false when there are none.
func (r Results) Median(key, unit string) (median float64, n int, ok bool) {
	vs := r[key][unit]
	if len(vs) == 0 {
		return 0, 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 0 {
		return (s[m-1] + s[m]) / 2, len(s), true
	}
	return s[m], len(s), true
}

// Lowest returns the lowest sample of key's unit and how many there are.
func (r Results) Lowest(key, unit string) (lowest float64, n int, ok bool) {
	vs := r[key][unit]
	if len(vs) == 0 {
		return 0, 0, false
	}
	return slices.Min(vs), len(vs), true
}

// Merge adds every sample of other to r.
func (r Results) Merge(other Results) {
	for k, units := range other {
		for u, vs := range units {
			for _, v := range vs {
				r.add(k, u, v)
			}
		}
	}
}

// modulePrefix is stripped from package paths in benchmark keys.
const modulePrefix = "github.com/snowmerak/clustering/"

// maxLine bounds one line of go test output.
const maxLine = 1 << 20

// ParseBench reads `go test -bench` output: "pkg:" lines set the package
// of the benchmark lines that follow, and each line
// "BenchmarkName-2  <iterations>  <value> <unit>  <value> <unit> ..." adds
// one sample per unit. Other lines are ignored; a benchmark line that does
// not parse is an error naming its line number.
func ParseBench(r io.Reader) (Results, error) {
	res := Results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	pkg := ""
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if p, ok := strings.CutPrefix(text, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), modulePrefix)
			continue
		}
		if !strings.HasPrefix(text, "Benchmark") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 {
			continue // a benchmark's name printed alone (its output follows)
		}
		if _, err := strconv.ParseUint(fields[1], 10, 64); err != nil {
			continue // not a result line: a log line starting with "Benchmark"
		}
		if len(fields)%2 != 0 {
			return nil, fmt.Errorf("line %d: value without unit: %q", line, text)
		}
		name := trimProcs(fields[0])
		for i := 2; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value %q: %w", line, fields[i], err)
			}
			res.add(Key(pkg, name), fields[i+1], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return res, nil
}

// trimProcs removes the "-N" GOMAXPROCS suffix from a benchmark name.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// swimLine matches the crash simulation's report of membership/swim:
// "N=20 LAN: detection median 7.8s, max 7.9s ...".
var swimLine = regexp.MustCompile(`N=(\d+) LAN: detection median ([0-9.]+[a-zµ]+), max ([0-9.]+[a-zµ]+)`)

// SWIMKey is the Results key of the SWIM crash simulation at cluster size n.
func SWIMKey(n int) string { return Key("membership/swim", fmt.Sprintf("TestSimCrash/N=%d", n)) }

// ParseSWIM reads `go test -v` output of the SWIM crash simulation and
// records the detection median and max, in seconds, per cluster size.
func ParseSWIM(r io.Reader) (Results, error) {
	res := Results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		m := swimLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		median, err1 := time.ParseDuration(m[2])
		worst, err2 := time.ParseDuration(m[3])
		if err1 != nil || err2 != nil {
			continue
		}
		res.add(SWIMKey(n), "detection-median-s", median.Seconds())
		res.add(SWIMKey(n), "detection-max-s", worst.Seconds())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read simulation output: %w", err)
	}
	return res, nil
}
