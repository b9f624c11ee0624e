// Command cpki manages the cluster's PKI: ML-DSA root and intermediate CAs,
// node certificates, key pairs made on the node, signing requests,
// inspection, chain verification and revocation lists.
//
// Every command that writes files writes all of them or none, never
// overwrites an existing file (except the revocation list that revoke
// updates), and creates private keys with mode 0600. Errors print one line to
// stderr and exit with status 1; bad flags exit with status 2.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// command is one cpki subcommand.
type command struct {
	name, summary string
	run           func(args []string, stdout io.Writer) error
}

func commands() []command {
	return []command{
		{"root", "create a self-signed root CA certificate and key", runRoot},
		{"intermediate", "create an intermediate CA certificate and key, signed by a CA", runIntermediate},
		{"leaf", "create a node certificate and key, signed by a CA", runLeaf},
		{"keygen", "create a key pair (and optionally a signing request) on the node", runKeygen},
		{"sign", "issue a node certificate for a public key or signing request", runSign},
		{"print", "show certificates, requests, public keys or revocation lists", runPrint},
		{"verify", "verify a certificate chain against trusted roots", runVerify},
		{"revoke", "add certificates to a CA's signed revocation list", runRevoke},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks a flag error the flag package has already reported.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
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
		err := c.run(args[1:], stdout)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "cpki %s: %s\n", c.name, oneLine(err.Error()))
			return 1
		}
	}
	fmt.Fprintf(stderr, "cpki: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: cpki <command> [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, `
Run "cpki <command> -h" for a command's flags.

Typical use:
  cpki root -cn "My Root CA" -out-cert root.crt -out-key root.key -days 3650
  cpki intermediate -ca-cert root.crt -ca-key root.key -cn "My Intermediate CA" \
      -out-cert intermediate.crt -out-key intermediate.key -days 1825
  cpki leaf -ca-cert intermediate.crt -ca-key intermediate.key -cn "My Leaf Node" \
      -domains node1.example.com -ips 10.0.0.1 -out-cert leaf.crt -out-key leaf.key -days 365
  cpki verify -ca root.crt -cert leaf.crt

Keys are ML-DSA (FIPS 204) in PKCS#8 seed form; certificates are X.509 v3
as RFC 9881 defines them, readable by standard tools. Passphrases for
encrypted keys come from -pass-file / -ca-pass-file, the CPKI_PASSPHRASE /
CPKI_CA_PASSPHRASE environment variables, or a terminal prompt.`)
}

// oneLine keeps an error on a single line, its control characters escaped.
func oneLine(s string) string { return escapeControls(strings.Join(strings.Fields(s), " ")) }

// escapeControls escapes what a terminal would act on, or what could fake a line
// (control characters, bidi and other format characters, invalid UTF-8), in
// Go's \x1b / \r / \u009b notation. Names and reasons in certificates,
// requests and revocation lists come from their makers, so cpki passes them
// through escapeControls before showing them.
func escapeControls(s string) string {
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

// newFlagSet makes a command's flag set with a usage text that explains it.
func newFlagSet(name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("cpki "+name, flag.ContinueOnError)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: cpki %s %s\n\n%s\n\nFlags:\n", name, synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlagsAndArgs parses args, leaving positional arguments in fs.Args().
func parseFlagsAndArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// parseFlags parses args and refuses positional arguments the command does not take.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := parseFlagsAndArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
