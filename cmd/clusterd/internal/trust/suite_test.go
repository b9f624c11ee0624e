package trust

import (
	"crypto/x509/pkix"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

// A cnsa2 node whose ML-DSA-87 leaf hangs below an ML-DSA-65 CA is refused,
// naming the certificate, instead of failing later on an OID.
func TestCheckSuiteNamesWhatPeersWouldRefuse(t *testing.T) {
	key87, err := pqc.MLDSA87.GenerateKey(nil)
	require.NoError(t, err)
	key65, err := pqc.MLDSA65.GenerateKey(nil)
	require.NoError(t, err)
	cert := func(cn string, key core.PublicKey, signedWith core.SignatureScheme) *pki.Certificate {
		return &pki.Certificate{Subject: pkix.Name{CommonName: cn}, PublicKey: key, SignatureScheme: signedWith}
	}
	cnsa2 := Suite("cnsa2")
	require.NoError(t, CheckSuite(cnsa2, []*pki.Certificate{cert("leaf", key87.Public(), pqc.MLDSA87), cert("inter", key87.Public(), pqc.MLDSA87)}))

	err = CheckSuite(cnsa2, []*pki.Certificate{cert("leaf", key87.Public(), pqc.MLDSA87), cert("inter", key87.Public(), pqc.MLDSA65)})
	require.ErrorIs(t, err, core.ErrInvalidInput)
	require.ErrorContains(t, err, `certificate 1 (CN=inter) is signed with ML-DSA-65, which suite "cnsa2" does not accept (ML-DSA-87)`)

	err = CheckSuite(cnsa2, []*pki.Certificate{cert("leaf", key65.Public(), pqc.MLDSA87)})
	require.ErrorContains(t, err, `the key is ML-DSA-65, which suite "cnsa2" does not accept`)
	require.NoError(t, CheckSuite(Suite("default"), []*pki.Certificate{cert("leaf", key65.Public(), pqc.MLDSA65)}))
}
