package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/pki"
)

var usageNames = map[string]x509.ExtKeyUsage{
	"server": x509.ExtKeyUsageServerAuth,
	"client": x509.ExtKeyUsageClientAuth,
}

func runVerify(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("cpki verify", "-ca ROOTS -cert CHAIN [flags]",
		"Verifies a certificate chain (the leaf first, then its intermediates) against trusted\nroots: signatures, validity, CA flags and path lengths, key usages, name constraints,\nnames and revocation. Exits 0 and prints the path when it holds; exits 1 with the\nreason (which certificate, and why) when it does not.", stderr)
	caPath := fs.String("ca", "", "PEM file of trusted root certificates (required)")
	certPath := fs.String("cert", "", "PEM file of the chain to verify, leaf first (required)")
	var lists listFlag
	fs.Var(&lists, "crl", "revocation list file(s) made by \"cpki revoke\", comma-separated or repeated")
	at := fs.String("time", "", "verify at this RFC 3339 time instead of now")
	dns := fs.String("dns", "", "require this DNS name in the leaf")
	uri := fs.String("uri", "", "require this URI (e.g. SPIFFE ID) in the leaf")
	ip := fs.String("ip", "", "require this IP address in the leaf")
	var usages listFlag
	fs.Var(&usages, "usage", "require extended key usages in the leaf: server, client (comma-separated)")
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	if *caPath == "" || *certPath == "" {
		return errors.New("-ca and -cert are required")
	}
	opts := pki.VerifyOptions{Now: time.Now(), DNSName: *dns, URI: *uri}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("-time: %w", err)
		}
		opts.Now = t
	}
	if *ip != "" {
		if opts.IP = net.ParseIP(*ip); opts.IP == nil {
			return fmt.Errorf("-ip: %q is not an IP address", *ip)
		}
	}
	for _, u := range usages {
		eku, ok := usageNames[u]
		if !ok {
			return fmt.Errorf("-usage: %q is not server or client", u)
		}
		opts.KeyUsages = append(opts.KeyUsages, eku)
	}
	roots, err := cliutil.LoadCertificates(*caPath)
	if err != nil {
		return err
	}
	chain, err := cliutil.LoadCertificates(*certPath)
	if err != nil {
		return err
	}
	store := pki.NewTrustStore(roots...)
	for _, path := range lists {
		if err := addRevocationList(store, path, opts.Now); err != nil {
			return err
		}
	}
	verified, err := store.Verify(chain, opts)
	if err != nil {
		return err
	}
	names := make([]string, len(verified))
	for i, c := range verified {
		names[i] = cliutil.EscapeControls(c.Subject.String())
	}
	fmt.Fprintf(stdout, "OK: %s\nNodeID: %s\n", strings.Join(names, " <- "), verified[0].NodeID())
	return nil
}

func addRevocationList(store *pki.TrustStore, path string, now time.Time) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	rl, signerChain, err := pki.ParseRevocationListPEM(data, cliutil.Schemes())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := store.AddRevocationList(rl, signerChain, now); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
