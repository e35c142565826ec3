//go:build windows

package main

// openNoWait: opening a file on Windows never waits for a writer.
const openNoWait = 0
