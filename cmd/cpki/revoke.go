package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/pki"
)

func runRevoke(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("cpki revoke", "-crl FILE (-cert FILE | -serial HEX | -fingerprint HEX)... [flags]",
		"Adds certificates to the revocation list the CA in -ca-cert/-ca-key signs, creating\nthe list file or updating it (its number grows by one, so peers can refuse an older\nlist). A CA's list revokes certificates anywhere below it; give the list to\n\"cpki verify -crl\" and to the nodes' trust stores.", stderr)
	var ca caFlags
	ca.register(fs, "intermediate.crt", "intermediate.key")
	listPath := fs.String("crl", "", "revocation list file to create or update (required)")
	var certs, serials, fingerprints listFlag
	fs.Var(&certs, "cert", "certificate file(s) to revoke (the first certificate of each), comma-separated or repeated")
	fs.Var(&serials, "serial", "serial number(s) in hex of certificates this CA issued, as cpki print shows them (colons optional)")
	fs.Var(&fingerprints, "fingerprint", "SHA-256 fingerprint(s) in hex of certificates to revoke (cpki print's \"SHA256 Fingerprint\"; a NodeID is not one)")
	reason := fs.String("reason", "", "reason recorded with the new entries")
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	if *listPath == "" || len(certs)+len(serials)+len(fingerprints) == 0 {
		return errors.New("-crl and at least one of -cert, -serial, -fingerprint are required")
	}
	now := time.Now()
	loaded, err := loadCA(ca, now)
	if err != nil {
		return err
	}
	signer := loaded.chain[0]
	number, entries, exists, err := existingList(*listPath, signer)
	if err != nil {
		return err
	}
	added, err := newEntries(signer, certs, serials, fingerprints, now, *reason, stdout)
	if err != nil {
		return err
	}
	for _, e := range added {
		if !alreadyRevoked(entries, e) {
			entries = append(entries, e)
		}
	}
	rl, err := pki.CreateRevocationList(number+1, now, entries, signer, loaded.key)
	if err != nil {
		return err
	}
	out := pki.NewFile{Path: *listPath, Data: pki.EncodeRevocationListPEM(rl, loaded.bundle()...), Mode: pki.CertFileMode}
	if exists {
		err = pki.ReplaceFile(out)
	} else {
		err = pki.WriteNewFiles(out)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Wrote revocation list %d of %s with %d entries to %s\n", rl.Number, signer.Subject.String(), len(rl.Entries), *listPath)
	return nil
}

// existingList reads the list at path, which signer must have signed, or
// reports that there is none yet.
func existingList(path string, signer *pki.Certificate) (int64, []pki.RevocationEntry, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, err
	}
	rl, _, err := pki.ParseRevocationListPEM(data, cliutil.Schemes())
	if err != nil {
		return 0, nil, false, fmt.Errorf("%s: %w", path, err)
	}
	if err := rl.CheckSignatureFrom(signer); err != nil {
		return 0, nil, false, fmt.Errorf("%s is not this CA's list: %w", path, err)
	}
	return rl.Number, rl.Entries, true, nil
}

func newEntries(ca *pki.Certificate, certs, serials, fingerprints []string, now time.Time, reason string, stdout io.Writer) ([]pki.RevocationEntry, error) {
	var out []pki.RevocationEntry
	for _, path := range certs {
		chain, err := cliutil.LoadCertificates(path)
		if err != nil {
			return nil, err
		}
		c := chain[0]
		var issuer *pki.Certificate
		for _, candidate := range append([]*pki.Certificate{ca}, chain[1:]...) {
			if c.CheckSignatureFrom(candidate) == nil {
				issuer = candidate
				break
			}
		}
		if issuer != ca {
			fmt.Fprintf(stdout, "note: %s was not issued by %s; the entry applies only where this CA is above it\n", cliutil.EscapeControls(c.Subject.String()), cliutil.EscapeControls(ca.Subject.String()))
		}
		out = append(out, pki.RevokeCertificate(c, issuer, now, reason))
	}
	for _, s := range serials {
		serial, err := parseSerial(s)
		if err != nil {
			return nil, err
		}
		out = append(out, pki.RevocationEntry{Issuer: ca.NodeID(), SerialNumber: serial, RevokedAt: now, Reason: reason})
	}
	for _, s := range fingerprints {
		b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("-fingerprint: %q is not a hex SHA-256 fingerprint", s)
		}
		e := pki.RevocationEntry{RevokedAt: now, Reason: reason}
		copy(e.Fingerprint[:], b)
		out = append(out, e)
	}
	return out, nil
}

func alreadyRevoked(entries []pki.RevocationEntry, e pki.RevocationEntry) bool {
	for _, old := range entries {
		if e.Fingerprint != [32]byte{} && old.Fingerprint == e.Fingerprint {
			return true
		}
		if e.SerialNumber != nil && old.SerialNumber != nil && old.Issuer == e.Issuer && old.SerialNumber.Cmp(e.SerialNumber) == 0 {
			return true
		}
	}
	return false
}

// parseSerial reads a serial number in hex as cpki prints it: colon-separated
// bytes ("print") or plain digits of any length ("print -json"). RFC 5280
// serials are positive and at most 20 octets in DER, so below 2^159 (a
// leading zero octet keeps a DER integer positive); pki issues no others.
func parseSerial(s string) (*big.Int, error) {
	digits := strings.ReplaceAll(s, ":", "")
	serial, ok := new(big.Int).SetString(digits, 16)
	if !ok || digits[0] == '+' || digits[0] == '-' || serial.Sign() <= 0 || serial.BitLen() > 159 {
		return nil, fmt.Errorf("-serial: %q is not a hex serial number (a positive number below 2^159, which fits 20 DER octets)", s)
	}
	return serial, nil
}
