package app_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any of them leaves a goroutine
// behind: a worker Run did not stop, a fake server, a Socket Mode link.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
