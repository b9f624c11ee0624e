package node

import (
	"crypto/x509/pkix"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

// A cnsa2 node whose ML-DSA-87 leaf hangs below an ML-DSA-65 CA is refused
// at start, naming the certificate, instead of failing later on an OID.
func TestChainSchemesMustSuitTheSuite(t *testing.T) {
	cert := func(cn string, signedWith core.SignatureScheme) *pki.Certificate {
		return &pki.Certificate{Subject: pkix.Name{CommonName: cn}, SignatureScheme: signedWith}
	}
	require.NoError(t, checkChainSchemes(pqc.CNSA2Suite(), []*pki.Certificate{cert("leaf", pqc.MLDSA87), cert("inter", pqc.MLDSA87)}))
	err := checkChainSchemes(pqc.CNSA2Suite(), []*pki.Certificate{cert("leaf", pqc.MLDSA87), cert("inter", pqc.MLDSA65)})
	require.ErrorIs(t, err, core.ErrInvalidInput)
	require.ErrorContains(t, err, `certificate 1 (CN=inter) is signed with ML-DSA-65, which suite "cnsa2" does not accept (ML-DSA-87)`)
}
