package trust

import (
	"fmt"
	"strings"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

// Suite returns the suite a configuration names: "cnsa2" or the default.
func Suite(name string) core.Suite {
	if name == "cnsa2" {
		return pqc.CNSA2Suite()
	}
	return pqc.DefaultSuite()
}

// CheckSuite reports a chain that peers using suite would refuse: the
// leaf's key, and every signature of the chain up to the root's on its last
// certificate, must be of a scheme the suite accepts.
func CheckSuite(suite core.Suite, chain []*pki.Certificate) error {
	if scheme := chain[0].PublicKey.Scheme(); !accepts(suite, scheme) {
		return fmt.Errorf("the key is %s, which suite %q does not accept (%s): %w", scheme.Name(), suite.Name, schemeNames(suite), core.ErrInvalidInput)
	}
	for i, c := range chain {
		if !accepts(suite, c.SignatureScheme) {
			return fmt.Errorf("certificate %d (%s) is signed with %s, which suite %q does not accept (%s): every certificate up to the root must use it: %w",
				i, c.Subject.String(), c.SignatureScheme.Name(), suite.Name, schemeNames(suite), core.ErrInvalidInput)
		}
	}
	return nil
}

// schemeNames lists the signature schemes s accepts.
func schemeNames(s core.Suite) string {
	names := make([]string, len(s.Signatures))
	for i, sc := range s.Signatures {
		names[i] = sc.Name()
	}
	return strings.Join(names, ", ")
}

func accepts(s core.Suite, scheme core.SignatureScheme) bool {
	_, ok := s.SchemeByOID(scheme.OID())
	return ok
}
