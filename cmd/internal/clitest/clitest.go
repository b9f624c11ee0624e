// Package clitest builds a command's binary for end-to-end tests that run
// it as users do: once per test binary, on first use, so that fuzz workers
// and runs that select no end-to-end test build nothing.
package clitest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Binary is a main package built on first use. Safe for concurrent use.
type Binary struct {
	name, pkg string

	once sync.Once
	dir  string
	path string
	err  error
}

// New returns the binary called name built from the package pkg (a path
// "go build" accepts, such as "." for the package under test).
func New(name, pkg string) *Binary { return &Binary{name: name, pkg: pkg} }

// Build builds the binary on the first call and returns its path, or why
// it could not be built (with the compiler's output).
func (b *Binary) Build() (string, error) {
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", b.name+"-test-")
		if err != nil {
			b.err = fmt.Errorf("build %s: %w", b.name, err)
			return
		}
		b.dir = dir
		bin := filepath.Join(dir, b.name)
		if out, err := exec.Command("go", "build", "-o", bin, b.pkg).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build %s: %w\n%s", b.name, err, out)
			return
		}
		b.path = bin
	})
	return b.path, b.err
}

// Path is Build for a test: a binary that does not build fails t.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	path, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Main runs the tests and then removes the binary, returning m.Run's exit
// code: TestMain is os.Exit(bin.Main(m)).
func (b *Binary) Main(m *testing.M) int {
	defer b.Remove()
	return m.Run()
}

// Remove deletes the built binary and its directory. The tests that used
// it must have finished.
func (b *Binary) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}
