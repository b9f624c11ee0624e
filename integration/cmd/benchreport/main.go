// Command benchreport runs the benchmarks of every module of the workspace
// with their baselines (each measured in the same run), takes benchstat-style
// medians of -count runs, holds them to the goals the issues set, and writes
// BENCHMARKS.md: each goal, the measured figure, its baseline, the ratio,
// and pass, miss, "not measured" (with the reason) or "reported" (a figure
// without a target), with the machine and the commands.
//
// Usage, from anywhere in the workspace:
//
//	go run ./integration/cmd/benchreport [-count 5] [-benchtime 1s] [-out BENCHMARKS.md] [-suites regexp]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	count := fs.Int("count", 5, "runs of each benchmark (medians need ≥ 5)")
	benchtime := fs.String("benchtime", "", "go test -benchtime (default: go's)")
	out := fs.String("out", "", "report file (default: BENCHMARKS.md at the workspace root)")
	raw := fs.String("raw", "", "also write every suite's raw output to this file")
	only := fs.String("suites", "", "run only the suites whose name matches this regexp")
	goCmd := fs.String("go", "go", "the go command")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *count < 1 {
		return fmt.Errorf("-count %d: want ≥ 1", *count)
	}
	root, err := workspaceRoot()
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(root, "BENCHMARKS.md")
	}
	var filter *regexp.Regexp
	if *only != "" {
		if filter, err = regexp.Compile(*only); err != nil {
			return fmt.Errorf("-suites: %w", err)
		}
	}

	rep := Report{Machine: ReadMachine(), Count: *count, All: Results{}, Command: commandLine("go", append([]string{"run", "./integration/cmd/benchreport"}, args...))}
	rep.Machine.GoVersion = goVersion(*goCmd, root)
	start := time.Now()
	ctx := context.Background()
	var rawOut strings.Builder
	for _, s := range Suites() {
		if filter != nil && !filter.MatchString(s.Name) {
			continue
		}
		fmt.Fprintf(os.Stderr, "benchreport: %s: %s\n", s.Name, commandLine(*goCmd, s.Args(*count, *benchtime)))
		o := s.Run(ctx, *goCmd, root, *count, *benchtime)
		if o.Err != nil {
			fmt.Fprintf(os.Stderr, "benchreport: %s: %v (figures it produced are kept)\n", s.Name, o.Err)
		}
		fmt.Fprintf(&rawOut, "### %s\n$ %s\n%s\n", s.Name, o.Command, o.Output)
		rep.Outcomes = append(rep.Outcomes, o)
		rep.All.Merge(o.Results)
	}
	rep.Machine.Elapsed = time.Since(start)
	rep.Machine.LoadEnd = loadAverage()
	for _, g := range Goals() {
		rep.Rows = append(rep.Rows, Evaluate(g, rep.All))
	}
	if *raw != "" {
		if err := os.WriteFile(*raw, []byte(rawOut.String()), 0o644); err != nil {
			return err
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := rep.WriteMarkdown(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "benchreport: wrote %s\n", *out)
	return nil
}

// workspaceRoot finds the directory holding go.work, from the current
// directory upwards.
func workspaceRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work in this directory or above: run from inside the workspace")
		}
		dir = parent
	}
}

// goVersion asks the go command that runs the benchmarks for its version.
func goVersion(goCmd, dir string) string {
	cmd := exec.Command(goCmd, "env", "GOVERSION")
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
