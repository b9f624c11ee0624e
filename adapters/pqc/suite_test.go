package pqc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
)

func TestSuitesBundleTheDocumentedAlgorithms(t *testing.T) {
	cases := []struct {
		suite      core.Suite
		name       string
		kem        core.KEM
		signatures []core.SignatureScheme
		aead       core.AEAD
		id         uint32
	}{
		{pqc.DefaultSuite(), "default", pqc.XWing, []core.SignatureScheme{pqc.MLDSA65, pqc.MLDSA87, pqc.MLDSA44}, pqc.XChaCha20Poly1305, 0x647aff03},
		{pqc.CNSA2Suite(), "cnsa2", pqc.MLKEM1024, []core.SignatureScheme{pqc.MLDSA87}, pqc.AES256GCM, 0x00420002},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, c.suite.Validate())
			assert.Equal(t, c.name, c.suite.Name)
			assert.Equal(t, c.kem, c.suite.KEM)
			assert.Equal(t, c.signatures, c.suite.Signatures)
			assert.Equal(t, c.aead, c.suite.AEAD)
			assert.Equal(t, c.id, c.suite.ID())
		})
	}
	assert.NotEqual(t, cases[0].suite.ID(), cases[1].suite.ID())
}

func TestSuitesReturnFreshSignatureLists(t *testing.T) {
	for _, mk := range []func() core.Suite{pqc.DefaultSuite, pqc.CNSA2Suite} {
		s := mk()
		first := s.Signatures[0]
		s.Signatures[0] = nil
		assert.Equal(t, first, mk().Signatures[0], "mutating one suite must not change the next")
	}
}

func TestCNSA2SuiteAcceptsOnlyMLDSA87(t *testing.T) {
	s := pqc.CNSA2Suite()
	_, ok := s.SchemeByOID(pqc.MLDSA65.OID())
	assert.False(t, ok)
	got, ok := s.SchemeByOID(pqc.MLDSA87.OID())
	require.True(t, ok)
	assert.Equal(t, pqc.MLDSA87, got)
}
