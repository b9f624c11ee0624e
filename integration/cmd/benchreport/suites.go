package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"time"
)

// Suite is one `go test` invocation of the report: a package and the
// benchmarks (or, for the SWIM simulation, the test) to run in it.
type Suite struct {
	// Name labels the suite in logs and the report.
	Name string
	// Package is the package path relative to the workspace root.
	Package string
	// Bench is the -bench pattern; empty for a test-log suite.
	Bench string
	// Test is the -run pattern of a suite whose figures are test logs.
	Test string
	// Parse reads the suite's output.
	Parse func(io.Reader) (Results, error)
}

// Suites are the benchmarks of every module with their baselines: each
// benchmark measures its baseline in the same run.
func Suites() []Suite {
	return []Suite{
		// -bench patterns match level by level (split at "/"), so each
		// benchmark family with its own sub-levels is a suite of its own.
		{Name: "ML-DSA-65", Package: "./adapters/pqc", Bench: "^BenchmarkMLDSA$/^ML-DSA-65$", Parse: ParseBench},
		{Name: "KEMs", Package: "./adapters/pqc", Bench: "^BenchmarkKEM$", Parse: ParseBench},
		{Name: "AEADs", Package: "./adapters/pqc", Bench: "^BenchmarkAEAD$/^(AES-256-GCM|XChaCha20-Poly1305)$/./^1024B$", Parse: ParseBench},
		{Name: "PKI chain verification", Package: "./cmd/cpki", Bench: "^BenchmarkVerifyChainMLDSA65$", Parse: ParseBench},
		{Name: "transport handshake and streams", Package: "./integration", Bench: "^BenchmarkTransport(HandshakePQ|StreamPQ)$", Parse: ParseBench},
		{Name: "placement lookups", Package: "./membership", Bench: "^BenchmarkOwner$", Parse: ParseBench},
		{Name: "seed scheme movement", Package: "./membership", Bench: "^BenchmarkSeedMovement$", Parse: ParseBench},
		{Name: "placement quality", Package: "./integration", Bench: "^BenchmarkPlacementQuality$", Parse: ParseBench},
		{Name: "SWIM crash detection", Package: "./membership/swim", Test: "^TestSimCrashedMemberIsDeclaredDeadByAllWithinBound$", Parse: ParseSWIM},
		{Name: "etcd registry", Package: "./adapters/etcdrepo", Bench: "^Benchmark(Put|List)$", Parse: ParseBench},
	}
}

// Args returns the go command's arguments for the suite.
func (s Suite) Args(count int, benchtime string) []string {
	if s.Bench == "" {
		return []string{"test", "-count=1", "-v", "-timeout=30m", "-run", s.Test, s.Package}
	}
	args := []string{"test", "-run=^$", "-bench", s.Bench, "-benchmem", "-count", strconv.Itoa(count), "-timeout=60m"}
	if benchtime != "" {
		args = append(args, "-benchtime", benchtime)
	}
	return append(args, s.Package)
}

// Outcome is what running a suite produced.
type Outcome struct {
	Suite   Suite
	Command string
	Output  []byte
	Took    time.Duration
	Results Results
	// Err is set when go test failed or its output did not parse; results
	// that were produced before the failure are kept.
	Err error
}

// Run runs the suite in dir and parses its output.
func (s Suite) Run(ctx context.Context, goCmd, dir string, count int, benchtime string) Outcome {
	args := s.Args(count, benchtime)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	runErr := cmd.Run()
	o := Outcome{Suite: s, Command: commandLine(goCmd, args), Output: out.Bytes(), Took: time.Since(start)}
	res, err := s.Parse(bytes.NewReader(o.Output))
	switch {
	case err != nil:
		o.Err = fmt.Errorf("parse output: %w", err)
	case runErr != nil:
		o.Err = fmt.Errorf("go test: %w", runErr)
	}
	if res == nil {
		res = Results{}
	}
	o.Results = res
	return o
}

// commandLine renders a command for the report, quoting what needs it.
func commandLine(name string, args []string) string {
	s := name
	for _, a := range args {
		if a == "" || bytes.ContainsAny([]byte(a), " |()^$*?[]") {
			a = strconv.Quote(a)
			a = "'" + a[1:len(a)-1] + "'"
		}
		s += " " + a
	}
	return s
}
