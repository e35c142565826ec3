package main

// A lab that was killed (SIGKILL, a crash) cannot remove its datastore folder. Each folder
// carries its lab's process id, and a starting lab removes the folders of labs that are gone.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const tempPrefix = "checkpoint-lab-"

// makeTempDir creates this lab's datastore folder, named after its process id.
func makeTempDir() (string, error) {
	return os.MkdirTemp("", tempPrefix+strconv.Itoa(os.Getpid())+"-")
}

// removeStaleTempDirs removes the folders of labs whose process no longer runs.
func removeStaleTempDirs() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range matches {
		rest := strings.TrimPrefix(filepath.Base(dir), tempPrefix)
		pid, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		logf("removing %s, left by a lab that was killed", dir)
		_ = os.RemoveAll(dir)
	}
}
