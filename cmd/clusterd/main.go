// Command clusterd runs a cluster node: the post-quantum secure transport,
// SWIM failure detection with signed gossip, the member registry and a key
// placement that follows liveness, with Prometheus metrics and a local admin
// socket.
//
//	clusterd run -config node.yaml   run a node until SIGINT or SIGTERM
//	clusterd dev                     a three-node demo on loopback
//	clusterd members                 list members, from a running node
//	clusterd status                  summarise a running node
//
// Errors print one line to stderr and exit with status 1; bad flags exit
// with status 2. See README.md for the configuration file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one clusterd subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "run a node from a configuration file", runNode},
		{"dev", "start three nodes on loopback with a throwaway PKI and show the story", runDev},
		{"members", "list the members a running node sees", runMembers},
		{"status", "summarise a running node", runStatus},
	}
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks a flag error the flag package has already reported.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "clusterd %s: %s\n", c.name, oneLine(err.Error()))
			return 1
		}
	}
	fmt.Fprintf(stderr, "clusterd: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: clusterd <command> [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, `
Run "clusterd <command> -h" for a command's flags.

Typical use:
  clusterd dev                       # see a cluster form, lose a node and heal
  clusterd run -config node.yaml     # one node of a real cluster
  clusterd members -config node.yaml # ask it who is alive`)
}

// oneLine keeps an error on a single line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// newFlagSet makes a command's flag set with a usage text that explains it.
func newFlagSet(name, synopsis, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("clusterd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: clusterd %s %s\n\n%s\n\nFlags:\n", name, synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and refuses positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
