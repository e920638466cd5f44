// Package testproc helps tests that run real processes (etcd members,
// ooda replicas): children that die with the test binary, and the end of
// their logs for a failure message. It is for tests; it imports nothing of
// Ooda's.
package testproc

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
)

// DieWithParent has the kernel kill cmd's process when the test binary
// dies without running its cleanups (a panic, go test's -timeout), where
// the kernel can (Linux's parent-death signal); elsewhere the test's
// cleanup is what stops it.
func DieWithParent(cmd *exec.Cmd) { dieWithParent(cmd) }

// Tail returns the last n lines of the file at path, or why it cannot.
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
