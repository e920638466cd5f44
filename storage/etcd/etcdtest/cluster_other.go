//go:build !linux

package etcdtest

import "os/exec"

// dieWithParent does nothing where the kernel cannot tie a child's life to
// its parent's: the cluster's cleanup is what stops its members.
func dieWithParent(*exec.Cmd) {}
