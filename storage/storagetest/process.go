package storagetest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/storage"
)

// The child process learns from its environment that it is the child, of
// which test, and which file to write.
const (
	envChild  = "OODA_STORAGETEST_CHILD"
	envDB     = "OODA_STORAGETEST_DB"
	ackPrefix = "storagetest ack: "
)

// Writer is the work a child process does on the database at the path its
// parent gave. It calls ack with one line (no newline) after each write
// the parent may rely on has committed; ack is safe for concurrent use.
// The database is opened for it and closed when it returns.
type Writer func(db *storage.DB, ack func(line string))

// Process is a child process running a Writer: the test binary itself,
// re-executed to run only the test that started it.
type Process struct {
	t       testing.TB
	cmd     *exec.Cmd
	lines   *bufio.Scanner
	stderr  bytes.Buffer
	exited  bool
	waitErr error
}

// StartProcess runs write in a child process against the database at path
// and returns at once; read its acknowledgements with Ack and end it with
// Kill. The test must not hold path open meanwhile.
//
// The child is this test binary, run with -test.run selecting t alone, so
// t's code up to StartProcess runs again in the child, and there
// StartProcess does not return: it runs write and ends the child's test.
// Everything the writer needs must therefore be computed before the call
// or inside write, and a test (or subtest) starts at most one process: the
// child would run the first writer it met.
func StartProcess(t testing.TB, path string, write Writer) *Process {
	t.Helper()
	if os.Getenv(envChild) == t.Name() {
		runChild(t, write)
	}
	// A child whose parent died while the child keeps writing is ended by
	// SIGPIPE at its next ack; the timeout bounds one that stops acking.
	cmd := exec.Command(os.Args[0], "-test.run="+runPattern(t.Name()), "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), envChild+"="+t.Name(), envDB+"="+path)
	p := &Process{t: t, cmd: cmd}
	cmd.Stderr = &p.stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	// Nothing is ever written to the child's stdin: it stays open while the
	// parent lives, which is what Idle waits on.
	_, err = cmd.StdinPipe()
	require.NoError(t, err)
	p.lines = bufio.NewScanner(out)
	require.NoError(t, cmd.Start(), "start child process")
	t.Cleanup(p.Kill)
	return p
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Idle blocks a Writer until its process is killed or its parent goes
// away, for a child whose job is to hold the database open.
func Idle() { _, _ = io.Copy(io.Discard, os.Stdin) }

// Ack returns the child's next acknowledged line, and fails the test if
// the child ends first.
func (p *Process) Ack() string {
	p.t.Helper()
	for p.lines.Scan() {
		if line, ok := strings.CutPrefix(p.lines.Text(), ackPrefix); ok {
			return line
		}
	}
	p.wait()
	p.t.Fatalf("storagetest: the child process ended before acknowledging (%v); its stderr:\n%s", p.waitErr, p.stderr.String())
	return ""
}

// Kill ends the child with SIGKILL, wherever it is in its work, and waits
// for it to be gone, so its lock on the file is released. Killing an ended
// child does nothing.
func (p *Process) Kill() {
	if p.exited {
		return
	}
	_ = p.cmd.Process.Kill()
	p.wait()
}

func (p *Process) wait() {
	if !p.exited {
		p.waitErr = p.cmd.Wait()
		p.exited = true
	}
}

// RunCrashWriter runs write in a child process against path, reads n
// acknowledgements, and kills the child with SIGKILL while it keeps
// writing. It returns the acknowledged lines, in the order the child
// printed them. The caller then reopens path (OpenPath) and asserts that
// everything acknowledged is there: the pattern every crash test follows.
func RunCrashWriter(t testing.TB, path string, n int, write Writer) []string {
	t.Helper()
	p := StartProcess(t, path, write)
	acks := make([]string, 0, n)
	for range n {
		acks = append(acks, p.Ack())
	}
	p.Kill()
	return acks
}

// runChild is the child's side of StartProcess.
func runChild(t testing.TB, write Writer) {
	db, err := storage.Open(os.Getenv(envDB), storage.Options{LockTimeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var mu sync.Mutex
	write(db, func(line string) {
		mu.Lock()
		defer mu.Unlock()
		// os.Stdout is unbuffered: the line is in the pipe when this returns.
		fmt.Fprintf(os.Stdout, "%s%s\n", ackPrefix, strings.ReplaceAll(line, "\n", " "))
	})
	if err := db.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	// Ends the child's run of the test without running the parent's
	// assertions that follow StartProcess.
	t.SkipNow()
}

// runPattern selects exactly the test called name, subtests included.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}
