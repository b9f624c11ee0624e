package cliutil

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testTool has a command for each outcome a command can have.
func testTool() Tool {
	run := func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := NewFlagSet("tool greet", "[-name NAME]", "Greets someone.", stderr)
		name := fs.String("name", "world", "who to greet")
		fail := fs.String("fail", "", "fail with this message")
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		if *fail != "" {
			return fmt.Errorf("greet: %s: %w", *fail, os.ErrNotExist)
		}
		fmt.Fprintf(stdout, "hello, %s\n", *name)
		return nil
	}
	return Tool{Name: "tool", Help: "Typical use:\n  tool greet -name you", Commands: []Command{
		{Name: "greet", Summary: "say hello", Run: run},
		{Name: "longer-name", Summary: "widens the column", Run: run},
	}}
}

const testUsage = `Usage: tool <command> [flags]

Commands:
  greet        say hello
  longer-name  widens the column

Run "tool <command> -h" for a command's flags.

Typical use:
  tool greet -name you
`

func TestToolRunExitStatuses(t *testing.T) {
	for _, tc := range []struct {
		rule          string
		args          []string
		code          int
		stdout        string
		stderr        string // all of it when stderrIsWhole, else a part
		stderrIsWhole bool
	}{
		{"no command is a usage error", nil, 2, "", testUsage, true},
		{"-h is help", []string{"-h"}, 0, "", testUsage, true},
		{"--help is help", []string{"--help"}, 0, "", testUsage, true},
		{"help is help", []string{"help"}, 0, "", testUsage, true},
		{"an unknown command is a usage error", []string{"frob"}, 2, "", "tool: unknown command \"frob\"\n" + testUsage, true},
		{"a command that succeeds exits 0", []string{"greet", "-name", "you"}, 0, "hello, you\n", "", true},
		{"a command's -h exits 0", []string{"greet", "-h"}, 0, "", "Usage: tool greet [-name NAME]\n\nGreets someone.\n\nFlags:\n", false},
		{"an unknown flag is a usage error", []string{"greet", "-nope"}, 2, "", "flag provided but not defined: -nope", false},
		{"a positional argument is a usage error", []string{"greet", "stray"}, 2, "", "unexpected argument \"stray\"\nUsage: tool greet", false},
		{"a failure is one line and exits 1", []string{"greet", "-fail", "two\nlines"}, 1, "", "tool greet: greet: two lines: file does not exist\n", true},
		{"a failure's control characters are escaped", []string{"greet", "-fail", "\x1b[2K\u202e"}, 1, "", "tool greet: greet: \\x1b[2K\\u202e: file does not exist\n", true},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := testTool().Run(context.Background(), tc.args, &stdout, &stderr)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, tc.stdout, stdout.String())
			if tc.stderrIsWhole {
				assert.Equal(t, tc.stderr, stderr.String())
			} else {
				assert.Contains(t, stderr.String(), tc.stderr)
			}
		})
	}
}

func TestParseFlagsAndArgsKeepsPositionalArguments(t *testing.T) {
	fs := NewFlagSet("tool print", "FILE...", "Prints files.", io.Discard)
	v := fs.Bool("v", false, "verbose")
	require.NoError(t, ParseFlagsAndArgs(fs, []string{"-v", "a", "b"}))
	assert.True(t, *v)
	assert.Equal(t, []string{"a", "b"}, fs.Args())
	assert.ErrorIs(t, ParseFlagsAndArgs(fs, []string{"-x"}), ErrUsage)
	assert.ErrorIs(t, ParseFlagsAndArgs(fs, []string{"-h"}), flag.ErrHelp)
}

func TestEscapeControls(t *testing.T) {
	for _, tc := range []struct{ rule, in, want string }{
		{"printable text is kept", "CN=node-1 ünïcode", "CN=node-1 ünïcode"},
		{"terminal escapes are shown", "\x1b[2Kok", `\x1b[2Kok`},
		{"a carriage return cannot fake a line", "a\rb\nc", `a\rb\nc`},
		{"C1 controls are shown", "\u009b31m", `\u009b31m`},
		{"bidi overrides are shown", "abc\u202edef", `abc\u202edef`},
		{"invalid UTF-8 is shown byte by byte", "a\xff\xfeb", `a\xff\xfeb`},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			assert.Equal(t, tc.want, EscapeControls(tc.in))
		})
	}
}

func TestOneLineFoldsWhiteSpace(t *testing.T) {
	assert.Equal(t, `yaml: line 2: bad \x1b[0m`, OneLine("yaml: line 2:\n\t bad \x1b[0m\n"))
}

// The escaped text is valid UTF-8 without anything a terminal acts on, and
// escaping it again changes nothing.
func FuzzEscapeControls(f *testing.F) {
	f.Add("plain")
	f.Add("\x1b[2K\r\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		got := EscapeControls(s)
		if !utf8.ValidString(got) {
			t.Fatalf("EscapeControls(%q) = %q: invalid UTF-8", s, got)
		}
		for _, r := range got {
			if !unicode.IsPrint(r) {
				t.Fatalf("EscapeControls(%q) = %q keeps %U", s, got, r)
			}
		}
		if again := EscapeControls(got); again != got {
			t.Fatalf("EscapeControls is not idempotent on %q: %q", got, again)
		}
		if one := OneLine(s); strings.ContainsAny(one, "\r\n") {
			t.Fatalf("OneLine(%q) = %q spans lines", s, one)
		}
	})
}

func ExampleTool() {
	tool := Tool{Name: "hello", Help: "Typical use:\n  hello greet", Commands: []Command{{
		Name: "greet", Summary: "print a greeting",
		Run: func(_ context.Context, args []string, stdout, stderr io.Writer) error {
			fs := NewFlagSet("hello greet", "[flags]", "Prints a greeting.", stderr)
			if err := ParseFlags(fs, args); err != nil {
				return err
			}
			if _, err := fmt.Fprintln(stdout, "hello"); err != nil {
				return err
			}
			return errors.New("and a failure\nover two lines")
		},
	}}}
	code := tool.Run(context.Background(), []string{"greet"}, os.Stdout, os.Stdout)
	fmt.Println("exit status", code)
	// Output:
	// hello
	// hello greet: and a failure over two lines
	// exit status 1
}
