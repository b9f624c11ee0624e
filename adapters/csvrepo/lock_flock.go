//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package csvrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockRetry is how often a writer retries a lock held by another writer.
const lockRetry = 2 * time.Millisecond

// lockFile takes an exclusive advisory lock (flock) on f, retrying until ctx
// ends. flock locks belong to the open file description, so two Repo values
// in one process exclude each other as two processes do.
func lockFile(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("flock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("flock %s: %w", f.Name(), ctx.Err())
		case <-time.After(lockRetry):
		}
	}
}

// unlockFile releases the lock lockFile took.
func unlockFile(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		return fmt.Errorf("unlock %s: %w", f.Name(), err)
	}
	return nil
}
