//go:build unix && !linux

package sdk

import (
	"os/exec"
	"syscall"
)

// pinByDescriptor: without Linux's /proc/self/fd, a binary is pinned by
// copying it into a private directory.
func pinByDescriptor() bool { return false }

// setPdeathsig: no parent-death signal outside Linux; a plugin built with
// Serve notices its host is gone within about a second.
func setPdeathsig(*syscall.SysProcAttr) {}

func startProcess(cmd *exec.Cmd) error { return cmd.Start() }

// waitExited: no way to wait without reaping here.
func waitExited(int) bool { return false }
