package trust

import (
	"errors"
	"fmt"
	"time"

	"github.com/snowmerak/clustering/pki"
)

// Reloaded is what Reload left in the trust store.
type Reloaded struct {
	// Roots is the number of trusted roots.
	Roots int
	// RevocationLists is the number of installed lists; Revoked counts
	// their entries.
	RevocationLists, Revoked int
}

// Reload brings ts up to date with its files while the node runs: the roots
// in rootsPath replace the store's roots, and each revocation list installs
// if it supersedes the one its signer had (a list never goes back to an
// older number). Roots that would no longer vouch for self, the node's own
// chain, are refused and the roots stay as they were; a revocation list
// that fails leaves the others installed. Each failure names its file.
func Reload(ts *pki.TrustStore, self Identity, rootsPath string, revocationLists []string, now time.Time) (Reloaded, error) {
	var errs []error
	if err := replaceRoots(ts, self, rootsPath, now); err != nil {
		errs = append(errs, err)
	}
	for _, path := range revocationLists {
		if err := addRevocationList(ts, path, now); err != nil {
			errs = append(errs, err)
		}
	}
	r := Reloaded{Roots: len(ts.Roots())}
	for _, rl := range ts.RevocationLists() {
		r.RevocationLists++
		r.Revoked += len(rl.Entries)
	}
	return r, errors.Join(errs...)
}

// replaceRoots makes the roots in path the store's roots, if self's chain
// verifies against them.
func replaceRoots(ts *pki.TrustStore, self Identity, path string, now time.Time) error {
	roots, err := loadRoots(path)
	if err != nil {
		return err
	}
	if err := self.Verify(pki.NewTrustStore(roots...), now); err != nil {
		return fmt.Errorf("trust roots: %s not installed: %w", path, err)
	}
	keep := make(map[[32]byte]bool, len(roots))
	for _, r := range roots {
		keep[r.Fingerprint()] = true
		ts.Add(r)
	}
	for _, r := range ts.Roots() {
		if !keep[r.Fingerprint()] {
			ts.Remove(r)
		}
	}
	return nil
}
