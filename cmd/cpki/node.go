package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

func runKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("cpki keygen", "[flags]",
		"Creates a key pair on the node. Hand the public key (or, with -out-csr, a signing\nrequest that also names the node) to the CA, which runs \"cpki sign\"; the private key\nnever leaves the node.", stderr)
	var key keyOutFlags
	key.register(fs, "node.key")
	outPub := fs.String("out-pub", "node.pub", "public key file to create")
	outCSR := fs.String("out-csr", "", "also create a PKCS#10 signing request with the names below (optional)")
	var subj subjectFlags
	subj.register(fs, "")
	var san sanFlags
	san.register(fs)
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	named := subj.cn != "" || subj.org != "" || san.set()
	if *outCSR == "" && named {
		return errors.New("-cn, -org, -ips, -domains and -uri go into a signing request: add -out-csr")
	}
	if *outCSR != "" && !named {
		return errors.New("-out-csr: a signing request names the node: give -cn, -org, -ips, -domains or -uri (or hand the CA the public key alone)")
	}
	outputs := []string{key.outKey, *outPub}
	if *outCSR != "" {
		outputs = append(outputs, *outCSR)
	}
	if err := refuseExisting(outputs...); err != nil {
		return err
	}
	scheme, err := cliutil.SchemeByName(key.alg)
	if err != nil {
		return err
	}
	signer, err := scheme.GenerateKey(nil)
	if err != nil {
		return err
	}
	files := []pki.NewFile{{Path: *outPub, Data: pki.EncodePublicKeyPEM(signer.Public()), Mode: pki.CertFileMode}}
	if *outCSR != "" {
		ips, domains, uris, err := san.parse()
		if err != nil {
			return err
		}
		req, err := pki.CreateCertificateRequest(pki.RequestTemplate{Subject: subj.name(), DNSNames: domains, IPAddresses: ips, URIs: uris}, signer)
		if err != nil {
			return err
		}
		files = append(files, pki.NewFile{Path: *outCSR, Data: pki.EncodeCertificateRequestPEM(req), Mode: pki.CertFileMode})
	}
	keyPEM, err := cliutil.EncodePrivateKey(signer, key.encrypt, key.passphrase(), key.scryptLogN)
	if err != nil {
		return err
	}
	if err := pki.WriteNewFiles(append(files, pki.NewFile{Path: key.outKey, Data: keyPEM, Mode: pki.KeyFileMode})...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created %s key pair (NodeID %s)\n", scheme.Name(), core.NodeIDOf(signer.Public()))
	for _, f := range append(files, pki.NewFile{Path: key.outKey}) {
		fmt.Fprintf(stdout, "Wrote %s\n", f.Path)
	}
	return nil
}

func runSign(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("cpki sign", "-in-pub FILE | -in-csr FILE [flags]",
		"Issues a node certificate (serverAuth and clientAuth) for a public key or a signing\nrequest made by \"cpki keygen\". A request's subject and names are used unless -cn or\nthe name flags are given; read a request with \"cpki print\" before signing it.", stderr)
	var ca caFlags
	ca.register(fs, "intermediate.crt", "intermediate.key")
	inPub := fs.String("in-pub", "", "node public key file")
	inCSR := fs.String("in-csr", "", "node signing request file (its signature is checked)")
	var subj subjectFlags
	subj.register(fs, "")
	var san sanFlags
	san.register(fs)
	outCert := fs.String("out-cert", "node.crt", "certificate file to create (leaf then the CA's intermediates)")
	days := fs.Int("days", 365, "validity in days (shortened to the CA's own expiry if later)")
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	if (*inPub == "") == (*inCSR == "") {
		return errors.New("give exactly one of -in-pub and -in-csr")
	}
	if err := requireDays(*days); err != nil {
		return err
	}
	if err := refuseExisting(*outCert); err != nil {
		return err
	}
	tmpl, pub, err := signingInput(*inPub, *inCSR)
	if err != nil {
		return err
	}
	if subj.cn != "" || subj.org != "" {
		tmpl.Subject = subj.name()
	}
	if san.set() {
		if tmpl.IPAddresses, tmpl.DNSNames, tmpl.URIs, err = san.parse(); err != nil {
			return err
		}
	}
	if len(tmpl.Subject.ToRDNSequence()) == 0 && len(tmpl.DNSNames)+len(tmpl.IPAddresses)+len(tmpl.URIs) == 0 {
		return errors.New("the certificate needs a name: give -cn or subjectAltNames")
	}
	now := time.Now()
	loaded, err := loadCA(ca, now)
	if err != nil {
		return err
	}
	cert, err := loaded.issue(tmpl, pub, now, *days)
	if err != nil {
		return err
	}
	if err := pki.WriteNewFiles(pki.NewFile{Path: *outCert, Data: pki.EncodeCertificatesPEM(append([]*pki.Certificate{cert}, loaded.bundle()...)...), Mode: pki.CertFileMode}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Signed %s (NodeID %s)\nWrote certificate to %s\n", cliutil.EscapeControls(cert.Subject.String()), cert.NodeID().Short(), *outCert)
	noteShortened(stdout, cert, now, *days)
	return nil
}

// signingInput reads the public key, or the request's key and names.
func signingInput(inPub, inCSR string) (pki.Template, core.PublicKey, error) {
	if inPub != "" {
		data, err := os.ReadFile(inPub)
		if err != nil {
			return pki.Template{}, nil, err
		}
		pub, err := pki.ParsePublicKeyPEM(data, cliutil.Schemes())
		if err != nil {
			return pki.Template{}, nil, fmt.Errorf("%s: %w", inPub, err)
		}
		return pki.Template{}, pub, nil
	}
	data, err := os.ReadFile(inCSR)
	if err != nil {
		return pki.Template{}, nil, err
	}
	req, err := pki.ParseCertificateRequestPEM(data, cliutil.Schemes())
	if err != nil {
		return pki.Template{}, nil, fmt.Errorf("%s: %w", inCSR, err)
	}
	return req.Template(), req.PublicKey, nil
}
