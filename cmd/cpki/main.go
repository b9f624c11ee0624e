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
	"context"
	"os"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
)

func commands() []cliutil.Command {
	return []cliutil.Command{
		{Name: "root", Summary: "create a self-signed root CA certificate and key", Run: runRoot},
		{Name: "intermediate", Summary: "create an intermediate CA certificate and key, signed by a CA", Run: runIntermediate},
		{Name: "leaf", Summary: "create a node certificate and key, signed by a CA", Run: runLeaf},
		{Name: "keygen", Summary: "create a key pair (and optionally a signing request) on the node", Run: runKeygen},
		{Name: "sign", Summary: "issue a node certificate for a public key or signing request", Run: runSign},
		{Name: "print", Summary: "show certificates, requests, public keys or revocation lists", Run: runPrint},
		{Name: "verify", Summary: "verify a certificate chain against trusted roots", Run: runVerify},
		{Name: "revoke", Summary: "add certificates to a CA's signed revocation list", Run: runRevoke},
	}
}

// tool is cpki with its commands and usage text.
func tool() cliutil.Tool {
	return cliutil.Tool{Name: "cpki", Commands: commands(), Help: `Typical use:
  cpki root -cn "My Root CA" -out-cert root.crt -out-key root.key -days 3650
  cpki intermediate -ca-cert root.crt -ca-key root.key -cn "My Intermediate CA" \
      -out-cert intermediate.crt -out-key intermediate.key -days 1825
  cpki leaf -ca-cert intermediate.crt -ca-key intermediate.key -cn "My Leaf Node" \
      -domains node1.example.com -ips 10.0.0.1 -out-cert leaf.crt -out-key leaf.key -days 365
  cpki verify -ca root.crt -cert leaf.crt

Keys are ML-DSA (FIPS 204) in PKCS#8 seed form; certificates are X.509 v3
as RFC 9881 defines them, readable by standard tools. Passphrases for
encrypted keys come from -pass-file / -ca-pass-file, the CPKI_PASSPHRASE /
CPKI_CA_PASSPHRASE environment variables, or a terminal prompt.`}
}

func main() {
	os.Exit(tool().Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
