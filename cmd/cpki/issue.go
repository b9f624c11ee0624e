package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

// clockSkew backdates NotBefore so that peers whose clocks lag a little
// accept a certificate the moment it is made.
const clockSkew = time.Minute

func runRoot(_ context.Context, args []string, stdout, stderr io.Writer) error {
	return issueCommand{
		name:        "root",
		description: "Creates a self-signed root CA certificate and its key: the trust anchor every node is\ngiven. Keep the key offline (consider -encrypt).",
		files:       "root", cn: "Root CA", days: 3650, flags: caFlagsTemplate,
	}.run(args, stdout, stderr)
}

func runIntermediate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	return issueCommand{
		name:        "intermediate",
		description: "Creates an intermediate CA certificate and key, signed by the CA in -ca-cert/-ca-key.\nThe certificate file also holds the issuing CA's own intermediates, if any.",
		files:       "intermediate", issuer: "root", cn: "Intermediate CA", days: 1825, flags: caFlagsTemplate,
	}.run(args, stdout, stderr)
}

func runLeaf(_ context.Context, args []string, stdout, stderr io.Writer) error {
	return issueCommand{
		name:        "leaf",
		description: "Creates a node certificate (serverAuth and clientAuth) and its key, signed by the CA in\n-ca-cert/-ca-key. The certificate file holds the leaf followed by the CA's\nintermediates, so the node presents its whole chain. To keep the node's key on the\nnode, use \"cpki keygen\" there and \"cpki sign\" at the CA instead.",
		files:       "leaf", issuer: "intermediate", cn: "Leaf Cert", days: 365, flags: leafFlagsTemplate,
	}.run(args, stdout, stderr)
}

// issueCommand is a command that makes a key pair and a certificate for it:
// root, intermediate and leaf differ only in these fields.
type issueCommand struct {
	name, description string
	// files is the base name of the files made by default (files.crt,
	// files.key); issuer that of the issuing CA's, "" for a self-signed root.
	files, issuer string
	cn            string // default subject common name
	days          int    // default validity
	// flags registers the command's own flags and returns what makes the
	// certificate's template from them once they are parsed.
	flags func(fs *flag.FlagSet) func() (pki.Template, error)
}

func (c issueCommand) run(args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("cpki "+c.name, "[flags]", c.description, stderr)
	var is issuance
	daysHelp := "validity in days"
	if c.issuer != "" {
		is.ca = &caFlags{}
		is.ca.register(fs, c.issuer+".crt", c.issuer+".key")
		daysHelp += " (shortened to the CA's own expiry if later)"
	}
	var subj subjectFlags
	subj.register(fs, c.cn)
	is.key.register(fs, c.files+".key")
	fs.StringVar(&is.outCert, "out-cert", c.files+".crt", "certificate file to create (never overwritten)")
	fs.IntVar(&is.days, "days", c.days, daysHelp)
	template := c.flags(fs)
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	tmpl, err := template()
	if err != nil {
		return err
	}
	tmpl.Subject = subj.name()
	is.tmpl = tmpl
	return is.run(stdout)
}

// caFlagsTemplate registers a CA's own flags, its path length and name
// constraints.
func caFlagsTemplate(fs *flag.FlagSet) func() (pki.Template, error) {
	pathLen := fs.Int("path-len", -1, "most intermediate CAs allowed below this CA; -1 for no limit")
	var nc constraintFlags
	nc.register(fs)
	return func() (pki.Template, error) {
		constraints, err := nc.parse()
		if err != nil {
			return pki.Template{}, err
		}
		tmpl := pki.Template{IsCA: true, NameConstraints: constraints}
		setPathLen(&tmpl, *pathLen)
		return tmpl, nil
	}
}

// leafFlagsTemplate registers a leaf's own flags, its subjectAltNames.
func leafFlagsTemplate(fs *flag.FlagSet) func() (pki.Template, error) {
	var san sanFlags
	san.register(fs)
	return func() (pki.Template, error) {
		ips, domains, uris, err := san.parse()
		if err != nil {
			return pki.Template{}, err
		}
		return pki.Template{DNSNames: domains, IPAddresses: ips, URIs: uris}, nil
	}
}

func setPathLen(tmpl *pki.Template, n int) {
	tmpl.MaxPathLen = n
	tmpl.MaxPathLenZero = n == 0
}

// issuance makes a key pair and a certificate for it, signed by ca (or
// self-signed when ca is nil), and writes both files or neither.
type issuance struct {
	tmpl    pki.Template
	days    int
	key     keyOutFlags
	outCert string
	ca      *caFlags
}

func (is issuance) run(stdout io.Writer) error {
	if err := requireDays(is.days); err != nil {
		return err
	}
	if err := refuseExisting(is.outCert, is.key.outKey); err != nil {
		return err
	}
	scheme, err := cliutil.SchemeByName(is.key.alg)
	if err != nil {
		return err
	}
	now := time.Now()
	var ca *loadedCA
	if is.ca != nil {
		if ca, err = loadCA(*is.ca, now); err != nil {
			return err
		}
	}
	key, err := scheme.GenerateKey(nil)
	if err != nil {
		return err
	}
	var cert *pki.Certificate
	var bundle []*pki.Certificate
	if ca == nil {
		tmpl := is.tmpl
		setValidity(&tmpl, now, is.days)
		cert, err = pki.NewRoot(tmpl, key, nil)
	} else {
		cert, err = ca.issue(is.tmpl, key.Public(), now, is.days)
		bundle = ca.bundle()
	}
	if err != nil {
		return err
	}
	keyPEM, err := cliutil.EncodePrivateKey(key, is.key.encrypt, is.key.passphrase(), is.key.scryptLogN)
	if err != nil {
		return err
	}
	if err := pki.WriteNewFiles(
		pki.NewFile{Path: is.outCert, Data: pki.EncodeCertificatesPEM(append([]*pki.Certificate{cert}, bundle...)...), Mode: pki.CertFileMode},
		pki.NewFile{Path: is.key.outKey, Data: keyPEM, Mode: pki.KeyFileMode},
	); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created %s (%s, %s, NodeID %s)\n", cert.Subject.String(), scheme.Name(), kind(cert), cert.NodeID().Short())
	fmt.Fprintf(stdout, "Wrote certificate to %s\nWrote private key to %s\n", is.outCert, is.key.outKey)
	noteShortened(stdout, cert, now, is.days)
	return nil
}

// noteShortened tells the user when the CA's expiry cut the validity asked for.
func noteShortened(stdout io.Writer, cert *pki.Certificate, now time.Time, days int) {
	if asked := now.Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Second); cert.NotAfter.Before(asked) {
		fmt.Fprintf(stdout, "Note: validity shortened to the CA's expiry, %s\n", cert.NotAfter.Format(time.RFC3339))
	}
}

func kind(c *pki.Certificate) string {
	switch {
	case c.IsCA && c.IsSelfSigned():
		return "root CA"
	case c.IsCA:
		return "intermediate CA"
	}
	return "leaf"
}

// refuseExisting fails early, before any key is made or passphrase asked,
// when an output file exists. pki.WriteNewFiles checks again when writing.
func refuseExisting(paths ...string) error {
	for _, p := range paths {
		if p == "" {
			return fmt.Errorf("an output file name is empty")
		}
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists; refusing to overwrite it: %w", p, fs.ErrExist)
		}
	}
	return nil
}

// loadedCA is an issuing CA: its certificate chain (the CA first) and key.
type loadedCA struct {
	chain []*pki.Certificate
	key   core.Signer
}

// loadCA reads the CA's files, refusing a CA that cannot issue now before
// asking for its key's passphrase.
func loadCA(f caFlags, now time.Time) (*loadedCA, error) {
	chain, err := cliutil.LoadCertificates(f.cert)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	ca := chain[0]
	switch {
	case !ca.IsCA:
		return nil, fmt.Errorf("%s: %q is not a CA certificate (basicConstraints CA:FALSE), so it cannot issue", f.cert, ca.Subject.String())
	case now.After(ca.NotAfter):
		return nil, fmt.Errorf("%s: CA certificate %q expired at %s", f.cert, ca.Subject.String(), ca.NotAfter.Format(time.RFC3339))
	case now.Before(ca.NotBefore):
		return nil, fmt.Errorf("%s: CA certificate %q is not valid until %s", f.cert, ca.Subject.String(), ca.NotBefore.Format(time.RFC3339))
	}
	key, err := cliutil.LoadPrivateKey(f.key, f.passphrase())
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	return &loadedCA{chain: chain, key: key}, nil
}

// setValidity makes tmpl valid from a minute ago for days.
func setValidity(tmpl *pki.Template, now time.Time, days int) {
	tmpl.NotBefore = now.Add(-clockSkew)
	tmpl.NotAfter = now.Add(time.Duration(days) * 24 * time.Hour)
}

// issue signs tmpl for pub, valid from a minute ago for days but kept within
// the CA's own validity.
func (ca *loadedCA) issue(tmpl pki.Template, pub core.PublicKey, now time.Time, days int) (*pki.Certificate, error) {
	setValidity(&tmpl, now, days)
	issuer := ca.chain[0]
	if tmpl.NotBefore.Before(issuer.NotBefore) {
		tmpl.NotBefore = issuer.NotBefore
	}
	if tmpl.NotAfter.After(issuer.NotAfter) {
		tmpl.NotAfter = issuer.NotAfter
	}
	return pki.Issue(tmpl, pub, issuer, ca.key, nil)
}

// bundle is the CA's chain to put after what it issues: the CA and its own
// intermediates, without the self-signed root, which peers hold already.
func (ca *loadedCA) bundle() []*pki.Certificate {
	var out []*pki.Certificate
	for _, c := range ca.chain {
		if !c.IsSelfSigned() {
			out = append(out, c)
		}
	}
	return out
}
