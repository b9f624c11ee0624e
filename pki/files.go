package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File permissions for what this package writes: private keys are readable
// by their owner only.
const (
	KeyFileMode  fs.FileMode = 0o600
	CertFileMode fs.FileMode = 0o644
)

// NewFile is one file for WriteNewFiles.
type NewFile struct {
	Path string
	Data []byte
	// Mode is the file's permission bits; zero means KeyFileMode.
	Mode fs.FileMode
}

// WriteNewFiles writes all of files or none of them, and never replaces an
// existing file. Each is written and synced to a temporary file (created 0600)
// in its directory, given its mode, then hard-linked into place, which fails
// if the path exists; on any failure the files this call placed and every
// temporary file are removed. An existing path fails with fs.ErrExist.
func WriteNewFiles(files ...NewFile) (err error) {
	seen := map[string]bool{}
	for _, f := range files {
		abs, aerr := filepath.Abs(f.Path)
		if aerr != nil {
			return fmt.Errorf("write %s: %w", f.Path, aerr)
		}
		if seen[abs] {
			return fmt.Errorf("write %s: the same path is given twice: %w", f.Path, fs.ErrExist)
		}
		seen[abs] = true
		if _, serr := os.Lstat(f.Path); serr == nil {
			return fmt.Errorf("write %s: refusing to overwrite: %w", f.Path, fs.ErrExist)
		}
	}
	var temps, placed []string
	defer func() {
		for _, t := range temps {
			os.Remove(t)
		}
		if err != nil {
			for _, p := range placed {
				os.Remove(p)
			}
		}
	}()
	for _, f := range files {
		tmp, terr := writeTemp(f)
		if terr != nil {
			return terr
		}
		temps = append(temps, tmp)
	}
	for i, f := range files {
		if lerr := os.Link(temps[i], f.Path); lerr != nil {
			if errors.Is(lerr, fs.ErrExist) {
				return fmt.Errorf("write %s: refusing to overwrite: %w", f.Path, fs.ErrExist)
			}
			return fmt.Errorf("write %s: %w", f.Path, lerr)
		}
		placed = append(placed, f.Path)
	}
	for _, f := range files {
		syncDir(filepath.Dir(f.Path))
	}
	return nil
}

// ReplaceFile atomically writes path, replacing it if it exists (for files
// that are updated in place, such as a revocation list).
func ReplaceFile(f NewFile) error {
	tmp, err := writeTemp(f)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, f.Path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	syncDir(filepath.Dir(f.Path))
	return nil
}

func writeTemp(f NewFile) (string, error) {
	t, err := os.CreateTemp(filepath.Dir(f.Path), "."+filepath.Base(f.Path)+".tmp*")
	if err != nil {
		// The temporary name means nothing to the caller: say what failed
		// (a missing directory, no permission) about the file asked for.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("write %s: %w", f.Path, err)
	}
	mode := f.Mode
	if mode == 0 {
		mode = KeyFileMode
	}
	_, err = t.Write(f.Data)
	if err == nil {
		err = t.Chmod(mode)
	}
	if err == nil {
		err = t.Sync()
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(t.Name())
		return "", fmt.Errorf("write %s: %w", f.Path, err)
	}
	return t.Name(), nil
}

// syncDir makes a new directory entry durable; failure only weakens
// durability across a crash, so it is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
