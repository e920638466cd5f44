package command

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any of them leaves a goroutine
// behind: the executor's workers, a guard's connections, a fake server.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
