package etcdtest

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the etcd process when the test binary
// dies without running its cleanups (a panic, go test's -timeout), so no
// member outlives its test.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
