//go:build !windows

package main

import (
	"errors"
	"os"
	"syscall"
)

// processAlive: signal 0 checks that a process exists without touching it.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, os.ErrPermission)
}
