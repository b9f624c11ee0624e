package pki

import (
	"bytes"
	"encoding/pem"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// PEM block types this package reads and writes.
const (
	PEMCertificate         = "CERTIFICATE"
	PEMCertificateRequest  = "CERTIFICATE REQUEST"
	PEMPublicKey           = "PUBLIC KEY"
	PEMPrivateKey          = "PRIVATE KEY"
	PEMEncryptedPrivateKey = "ENCRYPTED PRIVATE KEY"
	PEMRevocationList      = "CLUSTERING REVOCATION LIST"
)

// maxPEMBlocks bounds the blocks one bundle may hold, so a hostile file cannot
// make a parser loop over millions of tiny blocks.
const maxPEMBlocks = 1024

// decodePEM returns the DER of every block in data, in order. Every block
// must have one of the wanted types and no headers; text before a block is
// skipped (as openssl's -text output puts it there), anything but whitespace
// after the last block is an error. pem.Decode silently passes over a block
// it cannot decode (bad base64, no END line) and returns the next one, which
// would let a damaged leaf leave its intermediate in front of a chain: so the
// text skipped before a block may not hold a PEM boundary line of its own.
// A leading UTF-8 byte order mark (left by some Windows editors) is skipped:
// pem.Decode would not see a BEGIN line behind it.
func decodePEM(data []byte, want ...string) ([]*pem.Block, error) {
	var blocks []*pem.Block
	rest := bytes.TrimPrefix(data, []byte("\ufeff"))
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		consumed := rest[:len(rest)-len(r)]
		if bytes.Count(consumed, []byte("-----BEGIN")) != 1 || bytes.Count(consumed, []byte("-----END")) != 1 {
			return nil, fmt.Errorf("a damaged PEM block precedes block %d: %w", len(blocks), ErrMalformed)
		}
		rest = r
		ok := false
		for _, w := range want {
			ok = ok || block.Type == w
		}
		if !ok {
			return nil, fmt.Errorf("PEM block %d is %q, want %q: %w", len(blocks), block.Type, want, ErrWrongPEMType)
		}
		if len(block.Headers) != 0 {
			return nil, fmt.Errorf("PEM block %d (%s) has headers (legacy encryption is not supported): %w", len(blocks), block.Type, ErrMalformed)
		}
		if len(blocks) == maxPEMBlocks {
			return nil, fmt.Errorf("more than %d PEM blocks: %w", maxPEMBlocks, ErrMalformed)
		}
		blocks = append(blocks, block)
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("no %q PEM block found: %w", want, ErrMalformed)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%d bytes of non-PEM data after block %d: %w", len(bytes.TrimSpace(rest)), len(blocks)-1, ErrMalformed)
	}
	return blocks, nil
}

// decodeOnePEM is decodePEM for files that hold exactly one block.
func decodeOnePEM(data []byte, want ...string) (*pem.Block, error) {
	blocks, err := decodePEM(data, want...)
	if err != nil {
		return nil, err
	}
	if len(blocks) != 1 {
		return nil, fmt.Errorf("%d PEM blocks, want one: %w", len(blocks), ErrMalformed)
	}
	return blocks[0], nil
}

// ParseCertificatesPEM parses a PEM bundle of one or more CERTIFICATE blocks:
// a chain (leaf first, then its intermediates) or a set of roots.
func ParseCertificatesPEM(data []byte, schemes []core.SignatureScheme) ([]*Certificate, error) {
	blocks, err := decodePEM(data, PEMCertificate)
	if err != nil {
		return nil, fmt.Errorf("parse certificates: %w", err)
	}
	certs := make([]*Certificate, len(blocks))
	for i, b := range blocks {
		if certs[i], err = ParseCertificate(b.Bytes, schemes); err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", i, err)
		}
	}
	return certs, nil
}

// EncodeCertificatesPEM encodes certificates as consecutive CERTIFICATE blocks.
func EncodeCertificatesPEM(certs ...*Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		// Writing to a bytes.Buffer cannot fail and the block has no headers.
		_ = pem.Encode(&buf, &pem.Block{Type: PEMCertificate, Bytes: c.Raw})
	}
	return buf.Bytes()
}

// EncodePublicKeyPEM encodes a public key as a PUBLIC KEY block (a DER
// SubjectPublicKeyInfo), the file a node hands to its CA.
func EncodePublicKeyPEM(pub core.PublicKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PEMPublicKey, Bytes: core.MarshalPublicKeyInfo(pub)})
}

// ParsePublicKeyPEM decodes one PUBLIC KEY block.
func ParsePublicKeyPEM(data []byte, schemes []core.SignatureScheme) (core.PublicKey, error) {
	block, err := decodeOnePEM(data, PEMPublicKey)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	return ParsePublicKeyInfo(block.Bytes, schemes)
}
