package cliutil

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrUsage marks a usage error that the flag set has already reported:
// Tool.Run exits with status 2 on it and prints nothing more.
var ErrUsage = errors.New("usage")

// Command is one subcommand of a Tool.
type Command struct {
	// Name is what selects the command; Summary is its line in the usage text.
	Name, Summary string
	// Run runs the command with the arguments after its name. nil and
	// flag.ErrHelp exit 0, an error wrapping ErrUsage exits 2, any other
	// error is printed on one line and exits 1.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// Tool is a command-line program made of subcommands, run as
// "name <command> [flags]".
type Tool struct {
	Name     string
	Commands []Command
	// Help ends the usage text, after the list of commands.
	Help string
}

// Run runs the command args[0] names and returns the exit status: 0 on
// success or help, 1 when the command fails (one line on stderr, "name
// command: error", control characters escaped), 2 on a usage error (no or
// an unknown command, bad flags).
func (t Tool) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		t.Usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range t.Commands {
		if c.Name != args[0] {
			continue
		}
		err := c.Run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, ErrUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "%s %s: %s\n", t.Name, c.Name, OneLine(err.Error()))
			return 1
		}
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n", t.Name, args[0])
	t.Usage(stderr)
	return 2
}

// Usage writes the tool's usage text: the commands with their summaries,
// then Help.
func (t Tool) Usage(w io.Writer) {
	width := 0
	for _, c := range t.Commands {
		width = max(width, len(c.Name))
	}
	fmt.Fprintf(w, "Usage: %s <command> [flags]\n\nCommands:\n", t.Name)
	for _, c := range t.Commands {
		fmt.Fprintf(w, "  %-*s %s\n", width+1, c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun \"%s <command> -h\" for a command's flags.\n\n%s\n", t.Name, t.Help)
}

// NewFlagSet makes the flag set of the command line name (such as "cpki
// root"), reporting to output, with a usage text that explains it.
func NewFlagSet(name, synopsis, description string, output io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s %s\n\n%s\n\nFlags:\n", name, synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// ParseFlagsAndArgs parses args, leaving positional arguments in fs.Args().
// It returns flag.ErrHelp for -h and ErrUsage for bad flags, which fs has
// already reported.
func ParseFlagsAndArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return ErrUsage
	}
	return nil
}

// ParseFlags is ParseFlagsAndArgs for a command that takes no positional
// arguments: it reports one and returns ErrUsage.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if err := ParseFlagsAndArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return ErrUsage
	}
	return nil
}

// OneLine keeps a message on a single line, its runs of white space folded
// to one space and its control characters escaped (EscapeControls): errors
// quote names and reasons that come from files and peers.
func OneLine(s string) string { return EscapeControls(strings.Join(strings.Fields(s), " ")) }

// EscapeControls escapes what a terminal would act on, or what could fake a
// line (control characters, bidi and other format characters, invalid
// UTF-8), in Go's \x1b / \r / \u009b notation. Names and reasons in
// certificates, requests and revocation lists come from their makers, so
// the tools pass them through EscapeControls before showing them.
func EscapeControls(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}
