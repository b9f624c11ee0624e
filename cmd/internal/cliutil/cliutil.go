// Package cliutil holds what the cluster's command-line tools share: the
// subcommand dispatcher with its usage text, flag sets and exit statuses
// (Tool, NewFlagSet, ParseFlags), escaping of untrusted text for the
// terminal, the signature schemes they accept, reading certificate and key
// files (asking for passphrases when keys are encrypted) and writing keys.
package cliutil

import (
	"fmt"
	"os"
	"strings"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
	"golang.org/x/crypto/scrypt"
)

// Schemes are the signature schemes the tools accept: ML-DSA-65, -87, -44.
func Schemes() []core.SignatureScheme { return pqc.SignatureSchemes() }

// SchemeNames lists the -alg values, lower case.
func SchemeNames() []string {
	var names []string
	for _, s := range Schemes() {
		names = append(names, strings.ToLower(s.Name()))
	}
	return names
}

// SchemeByName returns the scheme for an -alg value such as "ml-dsa-65".
func SchemeByName(name string) (core.SignatureScheme, error) {
	s, ok := core.SchemeByName(Schemes(), name)
	if !ok {
		return nil, fmt.Errorf("unknown algorithm %q (want one of %s)", name, strings.Join(SchemeNames(), ", "))
	}
	return s, nil
}

// Scrypt is golang.org/x/crypto/scrypt.Key as pki's ScryptFunc.
func Scrypt(password, salt []byte, n, r, p, keyLen int) ([]byte, error) {
	return scrypt.Key(password, salt, n, r, p, keyLen)
}

// LoadCertificates reads a PEM file of one or more certificates (a chain,
// leaf first, or a bundle of roots).
func LoadCertificates(path string) ([]*pki.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := pki.ParseCertificatesPEM(data, Schemes())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

// LoadPrivateKey reads a PRIVATE KEY or ENCRYPTED PRIVATE KEY file, asking
// pass for the passphrase only when the key is encrypted.
func LoadPrivateKey(path string, pass Passphrase) (core.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := pki.ParsePrivateKeyPEM(data, Schemes(), Scrypt, func() ([]byte, error) { return pass.Read(false) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// EncodePrivateKey returns key as PEM, encrypted under a passphrase from
// pass (asked twice on a terminal) with scrypt cost 2^logN when encrypt is set.
func EncodePrivateKey(key core.Signer, encrypt bool, pass Passphrase, logN int) ([]byte, error) {
	if !encrypt {
		return pki.EncodePrivateKeyPEM(key)
	}
	pw, err := pass.Read(true)
	if err != nil {
		return nil, err
	}
	params := pki.DefaultScryptParams()
	params.LogN = logN
	return pki.EncodeEncryptedPrivateKeyPEM(key, pw, Scrypt, params, nil)
}
