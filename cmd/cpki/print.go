package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/pki"
)

func runPrint(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("cpki print", "[flags] FILE...",
		"Shows the certificates (a chain or bundle), signing requests, public keys and\nrevocation lists in PEM files, in the manner of \"openssl x509 -text\", or as JSON.", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array with one object per PEM block")
	if err := cliutil.ParseFlagsAndArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return cliutil.ErrUsage
	}
	var items []printable
	for _, path := range fs.Args() {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		got, err := decodeAny(data)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		items = append(items, got...)
	}
	if *asJSON {
		return encodeJSON(stdout, items)
	}
	for i, it := range items {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		it.text(stdout)
	}
	return nil
}

// encodeJSON writes items as an indented JSON array. encoding/json escapes
// C0 controls but not C1 controls (U+009B is a CSI to many terminals) nor
// bidi overrides; they can only occur inside strings, where \uXXXX is the
// same value, so they are escaped too.
func encodeJSON(w io.Writer, items []printable) error {
	var out []any
	for _, it := range items {
		out = append(out, it.json())
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	var esc strings.Builder
	for _, r := range buf.String() {
		switch {
		case r == '\n' || unicode.IsPrint(r):
			esc.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&esc, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&esc, `\u%04x`, r)
		}
	}
	_, err := io.WriteString(w, esc.String())
	return err
}

// printable is one decoded PEM block.
type printable interface {
	text(w io.Writer)
	json() any
}

// decodeAny decodes every PEM block of data by its type.
func decodeAny(data []byte) ([]printable, error) {
	schemes := cliutil.Schemes()
	var out []printable
	rest := data
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		// pem.Decode passes over a block it cannot decode: refuse, as pki does.
		if consumed := rest[:len(rest)-len(r)]; bytes.Count(consumed, []byte("-----BEGIN")) != 1 || bytes.Count(consumed, []byte("-----END")) != 1 {
			return nil, fmt.Errorf("a damaged PEM block precedes block %d", len(out))
		}
		rest = r
		one := pem.EncodeToMemory(block)
		switch block.Type {
		case pki.PEMCertificate:
			c, err := pki.ParseCertificate(block.Bytes, schemes)
			if err != nil {
				return nil, fmt.Errorf("block %d: %w", len(out), err)
			}
			out = append(out, certView{c})
		case pki.PEMCertificateRequest:
			r, err := pki.ParseCertificateRequestPEM(one, schemes)
			if err != nil {
				return nil, fmt.Errorf("block %d: %w", len(out), err)
			}
			out = append(out, requestView{r})
		case pki.PEMPublicKey:
			pub, err := pki.ParsePublicKeyPEM(one, schemes)
			if err != nil {
				return nil, fmt.Errorf("block %d: %w", len(out), err)
			}
			out = append(out, publicKeyView{pub})
		case pki.PEMRevocationList:
			rl, _, err := pki.ParseRevocationListPEM(one, schemes)
			if err != nil {
				return nil, fmt.Errorf("block %d: %w", len(out), err)
			}
			out = append(out, listView{rl})
		case pki.PEMPrivateKey, pki.PEMEncryptedPrivateKey:
			return nil, fmt.Errorf("block %d is a private key; cpki print does not show private keys", len(out))
		default:
			return nil, fmt.Errorf("block %d has unsupported PEM type %q", len(out), block.Type)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM block found")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("data after the last PEM block")
	}
	return out, nil
}
