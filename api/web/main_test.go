package web

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any of them leaves a goroutine
// behind: a live stream, the hub's watch of the change feed, a server.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
