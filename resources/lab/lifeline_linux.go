//go:build linux

package main

import (
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// parentDeathSignal is what the kernel sends when the lab's parent ends. The kernel sends it when
// the parent *thread* that started the lab ends (the wizard starts the lab from a worker
// thread), so on receipt the lab checks that its parent process really is gone: it then has a
// new parent.
const parentDeathSignal = syscall.SIGUSR2

// watchParentDeath asks the kernel for parentDeathSignal when the parent dies.
func watchParentDeath(s *stopper) {
	parent := os.Getppid()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, parentDeathSignal)
	// The request belongs to the calling thread, which must live as long as the lab: the
	// main goroutine's, kept on it.
	runtime.LockOSThread()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(parentDeathSignal), 0); errno != 0 {
		logf("cannot ask for a signal when the parent ends: %v", errno)
		return
	}
	gone := func() bool {
		if os.Getppid() != parent {
			s.stop("its parent process is gone")
			return true
		}
		return false
	}
	if gone() { // it died before the request
		return
	}
	go func() {
		for range sigs {
			if gone() {
				return
			}
			logf("the thread that started the lab ended; its process still runs")
		}
	}()
}
