//go:build unix

package sdk

import (
	"os/exec"
	"syscall"
)

// setProcAttr starts the plugin in its own process group, so that killing
// the group also kills what the plugin started (a shell script's children).
// On Linux the plugin also gets SIGKILL when the host dies (setPdeathsig).
func setProcAttr(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setPdeathsig(cmd.SysProcAttr)
}

// killGroup sends SIGKILL to the process group pid leads, and to pid itself
// (which may have left the group).
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
