package cliutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// Passphrase says where a key's passphrase comes from, in this order: the
// first line of File, the environment variable Env, or a prompt on the
// terminal (without echo). Without any of them reading fails.
type Passphrase struct {
	// File is a file whose first line is the passphrase ("" for none).
	File string
	// Env names an environment variable holding the passphrase.
	Env string
	// Prompt is shown on the terminal, e.g. "CA key passphrase".
	Prompt string
}

// Read returns the passphrase. With confirm, a terminal prompt asks twice and
// the answers must agree (for a new key). An empty passphrase is refused.
func (p Passphrase) Read(confirm bool) ([]byte, error) {
	var pw []byte
	switch {
	case p.File != "":
		data, err := os.ReadFile(p.File)
		if err != nil {
			return nil, fmt.Errorf("passphrase file: %w", err)
		}
		line, _, _ := bytes.Cut(data, []byte("\n"))
		pw = bytes.TrimSuffix(line, []byte("\r"))
	case p.Env != "" && os.Getenv(p.Env) != "":
		pw = []byte(os.Getenv(p.Env))
	case term.IsTerminal(int(os.Stdin.Fd())):
		var err error
		if pw, err = p.prompt(p.Prompt); err != nil {
			return nil, err
		}
		if confirm {
			again, err := p.prompt("Confirm " + p.Prompt)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(pw, again) {
				return nil, errors.New("passphrases do not match")
			}
		}
	default:
		return nil, fmt.Errorf("%s needed: stdin is not a terminal; set %s or give a passphrase file", p.Prompt, p.Env)
	}
	if len(pw) == 0 {
		return nil, fmt.Errorf("%s is empty", p.Prompt)
	}
	return pw, nil
}

func (p Passphrase) prompt(label string) ([]byte, error) {
	fmt.Fprintf(os.Stderr, "%s: ", label)
	pw, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	return pw, nil
}
