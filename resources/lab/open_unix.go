//go:build !windows

package main

import "syscall"

// openNoWait keeps the open of a named pipe from waiting for a writer; a regular file reads the
// same with it.
const openNoWait = syscall.O_NONBLOCK
