//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package csvrepo

import (
	"context"
	"os"
)

// lockFile is a no-op where flock is unavailable: writers of one Repo are
// still serialised by its mutex, but separate processes or Repo values on the
// same file are not. Linux is the supported target.
func lockFile(ctx context.Context, _ *os.File) error { return ctx.Err() }

// unlockFile is the no-op counterpart of lockFile.
func unlockFile(*os.File) error { return nil }
