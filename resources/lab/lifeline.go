package main

// The lab ends with whoever started it. A signal (SIGINT, SIGTERM, SIGHUP; Ctrl+C or Ctrl+Break
// on Windows) stops it, at any moment: while it reads the scenario, builds the inventory or
// serves. With --exit-with-parent its starter hands it a pipe as standard input and keeps the
// other end: when the starter dies, however it dies (even SIGKILL, or a crash), the system
// closes that end and the lab stops too. On Linux the kernel also sends a signal when the
// starter dies (lifeline_linux.go), which covers a copy of the pipe's end kept by a child the
// starter forked.

import (
	"bufio"
	"os"
	"sync"
)

// stopper is closed once, by the first reason to stop.
type stopper struct {
	once sync.Once
	done chan struct{}
	mu   sync.Mutex
	why  string
}

func newStopper() *stopper {
	return &stopper{done: make(chan struct{})}
}

func (s *stopper) stop(why string) {
	s.once.Do(func() {
		s.mu.Lock()
		s.why = why
		s.mu.Unlock()
		close(s.done)
	})
}

func (s *stopper) stopped() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *stopper) reason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.why
}

// watchStdin stops the lab when standard input reaches its end: the starter holds the pipe's
// other end, and the system closes it when the starter ends. Each line read before that is a
// command (commands.go), handed to onLine.
func watchStdin(s *stopper, onLine func(string)) {
	go func() {
		reader := bufio.NewReaderSize(os.Stdin, 4096)
		long := false // the rest of a line too long to be a command is skipped
		for {
			line, err := reader.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				long = true
				continue
			}
			if err != nil {
				break
			}
			if !long && onLine != nil {
				onLine(string(line))
			}
			long = false
		}
		s.stop("its starter is gone (standard input closed)")
	}()
}
