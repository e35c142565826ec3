// Command checkpoint-lab is the wizard's training lab: a local vCenter (a real vSphere SOAP
// endpoint, govmomi's simulator) serving one scenario file, with the simulator's gaps fixed
// and the article's vMotion failure modelled.
//
//	checkpoint-lab --scenario FILE [--port N] [--filler-vms N] [--delay-ms N]
//	               [--method-delay Method=ms[,Method=ms...]]
//	               [--ca-dir DIR [--renew-certificate | --replace-certificate-authority]
//	                | --cert-file F --key-file F] [--certs-zip FILE]
//	               [--exit-with-parent] [--verbose]
//
// Once it answers on 127.0.0.1 it prints one line of JSON on stdout (url, host, port, user,
// password, thumbprint_sha256, ca_thumbprint_sha256) and runs until SIGINT, SIGTERM or SIGHUP
// (or, with --exit-with-parent, until its standard input closes or its parent dies), then exits
// 0 leaving no files behind but those it was told to keep; a stop asked for while it starts
// ends it at once, with 0 too. A bad scenario or command line exits 2 with one line on stderr
// naming the field or the option. Its certificates: tls.go; commands while it runs:
// commands.go.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

var verbose bool

// logf writes a diagnostic line to stderr when --verbose is given; stdout carries only the
// ready line.
func logf(format string, args ...interface{}) {
	if verbose {
		fmt.Fprintf(os.Stderr, "checkpoint-lab: "+format+"\n", args...)
	}
}

type options struct {
	scenario    string
	port        int
	fillers     int
	delayMS     int
	methodDelay map[string]int
	certFile    string
	keyFile     string
	// caDir keeps the lab's authority and certificate (tls.go); certsZip replaces the
	// authority's download (certs.go).
	caDir            string
	renewCertificate bool
	replaceAuthority bool
	certsZip         string
	// exitWithParent: stop when standard input closes or the parent process dies.
	exitWithParent bool
}

// maxDelayMS bounds --delay-ms and --method-delay: a minute per call is already useless.
const maxDelayMS = 60000

// readyLine is the one line of JSON on stdout that tells the starter where the lab is.
type readyLine struct {
	URL        string `json:"url"`
	Host       string `json:"host"`
	Port       int    `json:"port"`
	User       string `json:"user"`
	Password   string `json:"password"`
	Thumbprint string `json:"thumbprint_sha256"`
	// CAThumbprint is the lab's authority's fingerprint; "" with --cert-file.
	CAThumbprint string `json:"ca_thumbprint_sha256"`
}

// usageError is a bad command line: exit 2 with one line, like a bad scenario.
type usageError struct{ msg string }

func (e *usageError) Error() string { return "usage error: " + e.msg }

func parseArgs(args []string) (*options, error) {
	fs := flag.NewFlagSet("checkpoint-lab", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := &options{fillers: -1}
	var methodDelay string
	fs.StringVar(&o.scenario, "scenario", "", "scenario file (JSON, format 1)")
	fs.IntVar(&o.port, "port", 0, "port on 127.0.0.1 (0: a free port)")
	fs.IntVar(&o.fillers, "filler-vms", -1, "filler VMs (overrides the scenario)")
	fs.IntVar(&o.delayMS, "delay-ms", 0, "delay of every SOAP call, ms")
	fs.StringVar(&methodDelay, "method-delay", "", "Method=ms[,Method=ms...]")
	fs.StringVar(&o.certFile, "cert-file", "", "certificate (PEM); made and kept if missing")
	fs.StringVar(&o.keyFile, "key-file", "", "private key (PEM); made and kept if missing")
	fs.StringVar(&o.caDir, "ca-dir", "", "folder keeping the lab's authority and certificate")
	fs.BoolVar(&o.renewCertificate, "renew-certificate", false, "with --ca-dir: a new certificate from the same authority")
	fs.BoolVar(&o.replaceAuthority, "replace-certificate-authority", false, "with --ca-dir: a new authority and certificate")
	fs.StringVar(&o.certsZip, "certs-zip", "", "serve this file as /certs/download.zip")
	fs.BoolVar(&o.exitWithParent, "exit-with-parent", false, "stop when stdin closes or the parent dies")
	fs.BoolVar(&verbose, "verbose", false, "log to stderr")
	if err := fs.Parse(args); err != nil {
		return nil, &usageError{err.Error()}
	}
	fillersGiven := false
	fs.Visit(func(f *flag.Flag) { fillersGiven = fillersGiven || f.Name == "filler-vms" })
	if fillersGiven && (o.fillers < 0 || o.fillers > maxFillerVMs) {
		return nil, &usageError{fmt.Sprintf("--filler-vms must be from 0 to %d", maxFillerVMs)}
	}
	if fs.NArg() > 0 {
		return nil, &usageError{"unexpected argument " + strconv.Quote(fs.Arg(0))}
	}
	if o.scenario == "" {
		return nil, &usageError{"--scenario FILE is required"}
	}
	if o.port < 0 || o.port > 65535 {
		return nil, &usageError{"--port must be from 0 to 65535"}
	}
	if o.delayMS < 0 || o.delayMS > maxDelayMS {
		return nil, &usageError{fmt.Sprintf("--delay-ms must be from 0 to %d", maxDelayMS)}
	}
	if (o.certFile == "") != (o.keyFile == "") {
		return nil, &usageError{"--cert-file and --key-file go together"}
	}
	if o.caDir != "" && o.certFile != "" {
		return nil, &usageError{"--ca-dir and --cert-file exclude each other: the lab either has an authority or serves the certificate it is given"}
	}
	if (o.renewCertificate || o.replaceAuthority) && o.caDir == "" {
		return nil, &usageError{"--renew-certificate and --replace-certificate-authority need --ca-dir (without it every start makes new ones)"}
	}
	if o.renewCertificate && o.replaceAuthority {
		return nil, &usageError{"--renew-certificate and --replace-certificate-authority exclude each other (a new authority comes with a new certificate)"}
	}
	o.methodDelay = map[string]int{}
	if methodDelay != "" {
		for _, item := range strings.Split(methodDelay, ",") {
			name, ms, ok := strings.Cut(strings.TrimSpace(item), "=")
			n, err := strconv.Atoi(ms)
			if !ok || name == "" || err != nil || n < 0 || n > maxDelayMS {
				return nil, &usageError{"--method-delay expects Method=ms[,Method=ms...], got " + strconv.Quote(item)}
			}
			o.methodDelay[name] = n
		}
	}
	return o, nil
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// report writes one line on stderr, its control characters escaped.
func report(s string) {
	fmt.Fprintln(os.Stderr, escapeControls(s))
}

func run(args []string) int {
	// Signals are caught from the start, so an early one still ends in a clean exit.
	stop := newStopper()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	// A starter that dies closes its ends of the lab's stdout and stderr too. Go ends a program
	// that writes to such a broken pipe (the ready line, a log line) with SIGPIPE, skipping the
	// cleanup below; ignored, the write just fails and the lab stops as its stdin closes.
	signal.Ignore(syscall.SIGPIPE)
	go func() {
		sig := <-sigs
		stop.stop("on " + sig.String())
	}()

	o, err := parseArgs(args)
	if err != nil {
		report(err.Error())
		return 2
	}
	commands := make(chan string, 8)
	if o.exitWithParent {
		watchStdin(stop, func(line string) {
			select {
			case commands <- line:
			default:
				printLine(errorEvent{Event: "error", Message: "too many commands at once; send one and wait for its answer"})
			}
		})
		watchParentDeath(stop)
	}
	if !verbose {
		// The simulator logs through the standard logger; the lab is quiet by default.
		log.SetOutput(io.Discard)
	}
	sc, err := LoadScenario(o.scenario)
	if err != nil {
		report(err.Error())
		return 2
	}
	fillers := sc.FillerVMs
	if o.fillers >= 0 {
		fillers = o.fillers
	}
	certs, err := newCertStore(o)
	if err != nil {
		report("certificate error: " + err.Error())
		return 1
	}
	if stop.stopped() {
		logf("stopping %s", stop.reason())
		return 0
	}

	lab := NewLab(sc)
	lab.stopping = stop.done
	lab.certs = certs
	defer lab.Cleanup()
	return serve(lab, o, fillers, commands, stop)
}

func serve(lab *Lab, o *options, fillers int, commands <-chan string, stop *stopper) int {
	started := time.Now()
	if err := lab.buildInventory(fillers); err != nil {
		if errors.Is(err, errStopped) {
			logf("stopping %s, while building the inventory", stop.reason())
			return 0
		}
		report("lab error: " + err.Error())
		return 1
	}
	logf("inventory built in %s", time.Since(started))

	// Fail early and clearly when the port is taken (the simulator would panic).
	probe, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.port)))
	if err != nil {
		report(fmt.Sprintf("lab error: cannot listen on 127.0.0.1:%d: %v", o.port, err))
		return 1
	}
	port := o.port
	if port == 0 {
		port = probe.Addr().(*net.TCPAddr).Port
	}
	_ = probe.Close()

	svc := lab.model.Service
	// The certificate is chosen per connection, so a renewal reaches the next one. Certificates
	// is set too: without it the simulator's test server would add a certificate of its own.
	svc.TLS = &tls.Config{
		Certificates:       []tls.Certificate{lab.certs.current()},
		GetConfigForClient: lab.certs.configForClient,
		MinVersion:         tls.VersionTLS12,
	}
	svc.Listen = &url.URL{Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	lab.model.DelayConfig.Delay = o.delayMS
	lab.model.DelayConfig.MethodDelay = o.methodDelay
	lab.delay = &lab.model.DelayConfig
	// Listen.User stays unset: the simulator then accepts any non-empty login, and the
	// middleware checks every scenario account itself.

	srv, err := newServer(svc)
	if err != nil {
		report("lab error: " + err.Error())
		return 1
	}
	// Close the listener and every connection at once when stopping: a client's long
	// WaitForUpdates call must not keep the lab alive.
	defer func() {
		_ = srv.Listener.Close()
		_ = srv.Config.Close()
	}()
	lab.next = srv.Config.Handler
	srv.Config.Handler = lab
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)

	if err := waitReady(port, stop); err != nil {
		if stop.stopped() {
			logf("stopping %s, before answering", stop.reason())
			return 0
		}
		report("lab error: " + err.Error())
		return 1
	}
	leaf, root := lab.certs.thumbprints()
	printLine(readyLine{
		URL:          fmt.Sprintf("https://127.0.0.1:%d/sdk", port),
		Host:         "127.0.0.1",
		Port:         port,
		User:         lab.sc.Login.User,
		Password:     lab.sc.Login.Password,
		Thumbprint:   leaf,
		CAThumbprint: root,
	})
	logf("ready in %s", time.Since(started))
	go func() {
		for line := range commands {
			runCommand(lab.certs, line)
		}
	}()

	<-stop.done
	logf("stopping %s", stop.reason())
	return 0
}

// newServer starts the simulator's HTTPS server; it panics when it cannot listen.
func newServer(svc *simulator.Service) (srv *simulator.Server, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot start the server: %v", p)
		}
	}()
	return svc.NewServer(), nil
}

// waitReady returns once the lab answers HTTPS on 127.0.0.1 (or it is asked to stop).
func waitReady(port int, stop *stopper) error {
	client := &http.Client{
		Timeout: 2 * time.Second,
		// Only the lab's own readiness probe: it checks that the port answers, not who.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec
	}
	defer client.CloseIdleConnections()
	u := fmt.Sprintf("https://127.0.0.1:%d/sdk/vimServiceVersions.xml", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the lab did not answer on port %d: %v", port, err)
		}
		select {
		case <-stop.done:
			return errStopped
		case <-time.After(20 * time.Millisecond):
		}
	}
}
