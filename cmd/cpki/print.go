package main

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/pki"
)

func runPrint(args []string, stdout io.Writer) error {
	fs := newFlagSet("print", "[flags] FILE...",
		"Shows the certificates (a chain or bundle), signing requests, public keys and\nrevocation lists in PEM files, in the manner of \"openssl x509 -text\", or as JSON.")
	asJSON := fs.Bool("json", false, "print a JSON array with one object per PEM block")
	if err := parseFlagsAndArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
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
		var out []any
		for _, it := range items {
			out = append(out, it.json())
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for i, it := range items {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		it.text(stdout)
	}
	return nil
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
