package pki

import (
	"bytes"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCertificateChainPEMRoundTrip(t *testing.T) {
	p := newTestPKI(t)
	data := EncodeCertificatesPEM(p.leaf, p.inter)
	assert.Equal(t, 2, strings.Count(string(data), "-----BEGIN CERTIFICATE-----"))
	chain, err := ParseCertificatesPEM(data, testSchemes)
	require.NoError(t, err)
	require.Len(t, chain, 2)
	assert.Equal(t, p.leaf.Raw, chain[0].Raw, "order is kept: leaf first")
	assert.Equal(t, p.inter.Raw, chain[1].Raw)

	// Text before a block (as in `openssl x509 -text` output) is skipped.
	chain, err = ParseCertificatesPEM(append([]byte("Certificate:\n  Data: ...\n"), data...), testSchemes)
	require.NoError(t, err)
	assert.Len(t, chain, 2)

	// So is a UTF-8 byte order mark, as some Windows editors save files.
	chain, err = ParseCertificatesPEM(append([]byte("\ufeff"), data...), testSchemes)
	require.NoError(t, err)
	assert.Len(t, chain, 2)
}

func TestParseCertificatesPEMRejects(t *testing.T) {
	p := newTestPKI(t)
	good := EncodeCertificatesPEM(p.leaf)
	key, err := EncodePrivateKeyPEM(p.leafKey)
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"wrong PEM type", key, ErrWrongPEMType},
		{"a key after the certificate", append(append([]byte{}, good...), key...), ErrWrongPEMType},
		{"no PEM at all", p.leaf.Raw, ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"garbage after the last block", append(append([]byte{}, good...), "garbage"...), ErrMalformed},
		{"truncated block", good[:len(good)-30], ErrMalformed},
		{"headers", pem.EncodeToMemory(&pem.Block{Type: PEMCertificate, Headers: map[string]string{"X": "y"}, Bytes: p.leaf.Raw}), ErrMalformed},
		{"block that is not a certificate", pem.EncodeToMemory(&pem.Block{Type: PEMCertificate, Bytes: []byte{0x30, 0}}), ErrMalformed},
		// encoding/pem skips a block it cannot decode and returns the next one,
		// so a damaged leaf would silently leave its intermediate in front.
		{"undecodable block before a good one", append([]byte("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"), EncodeCertificatesPEM(p.inter)...), ErrMalformed},
		{"unterminated block before a good one", append(append([]byte{}, good[:len(good)-len("-----END CERTIFICATE-----\n")]...), EncodeCertificatesPEM(p.inter)...), ErrMalformed},
		{"block with a mismatched END line before a good one", append([]byte(strings.Replace(string(good), "END CERTIFICATE", "END PRIVATE KEY", 1)), EncodeCertificatesPEM(p.inter)...), ErrMalformed},
		{"too many blocks", bytes.Repeat(pem.EncodeToMemory(&pem.Block{Type: PEMCertificate, Bytes: []byte{0}}), maxPEMBlocks+1), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := ParseCertificatesPEM(tc.data, testSchemes)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, certs)
		})
	}
}
