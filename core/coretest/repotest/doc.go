// Package repotest is the contract test suite of core.MemberRepo, written once
// and run by every repository (memory, CSV file, etcd), plus helpers that
// build test members with real X.509 certificates.
//
// A repository's test calls [Run] with a function that opens a fresh, empty
// repository:
//
//	func TestContract(t *testing.T) {
//		repotest.Run(t, func(t *testing.T) core.MemberRepo { return memrepo.New() })
//	}
//
// Each rule of the MemberRepo doc comments is one subtest named after it. The
// suite uses only the standard library and generous timeouts (no sleeps tuned
// to a backend), so it suits slow backends such as etcd.
package repotest
