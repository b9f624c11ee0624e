package membership_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a Store leaves a goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
