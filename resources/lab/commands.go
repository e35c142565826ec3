package main

// Commands on standard input, one per line, while the lab runs (with --exit-with-parent, where
// standard input is the starter's pipe):
//
//	renew-certificate                a new certificate from the same authority (a renewal)
//	replace-certificate-authority    a new authority and a certificate from it (a replacement)
//
// Each is answered with one line of JSON on stdout, after the ready line:
//
//	{"event":"certificate","thumbprint_sha256":"…","ca_thumbprint_sha256":"…"}
//	{"event":"error","message":"…"}
//
// Connections made afterwards get the new certificate; open ones keep theirs, as when vCenter's
// certificate is renewed under a running client. With --ca-dir the new files are kept there.

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
)

var stdoutMu sync.Mutex

// printLine writes one line of JSON on stdout; the ready line and the answers never interleave.
func printLine(v interface{}) {
	line, _ := json.Marshal(v)
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	fmt.Fprintln(os.Stdout, string(line))
	_ = os.Stdout.Sync()
}

type certificateEvent struct {
	Event        string `json:"event"`
	Thumbprint   string `json:"thumbprint_sha256"`
	CAThumbprint string `json:"ca_thumbprint_sha256"`
}

type errorEvent struct {
	Event   string `json:"event"`
	Message string `json:"message"`
}

// runCommand carries out one line of standard input.
func runCommand(certs *certStore, line string) {
	command := strings.TrimSpace(line)
	var err error
	switch command {
	case "":
		return
	case "renew-certificate":
		err = certs.renew()
	case "replace-certificate-authority":
		err = certs.replaceAuthority()
	default:
		err = fmt.Errorf("unknown command %q: use renew-certificate or replace-certificate-authority", escapeControls(command))
	}
	if err != nil {
		logf("%s: %v", command, err)
		printLine(errorEvent{Event: "error", Message: err.Error()})
		return
	}
	leaf, root := certs.thumbprints()
	logf("%s: now %s (authority %s)", command, leaf, root)
	printLine(certificateEvent{Event: "certificate", Thumbprint: leaf, CAThumbprint: root})
}
