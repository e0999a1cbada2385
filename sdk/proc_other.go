//go:build !unix

package sdk

import (
	"os"
	"os/exec"
)

// pinByDescriptor: a binary is pinned by copying it into a private
// directory.
func pinByDescriptor() bool { return false }

// setProcAttr: no process groups here; the plugin process alone is killed.
func setProcAttr(*exec.Cmd) {}

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func startProcess(cmd *exec.Cmd) error { return cmd.Start() }

// waitExited: no way to wait without reaping here.
func waitExited(int) bool { return false }
