//go:build !linux

package main

// watchParentDeath: only Linux can signal a parent's death; the pipe on standard input (and, on
// Windows, the job object the wizard puts the lab in) covers the other systems.
func watchParentDeath(s *stopper) {}
