package main

// The lab's TLS certificates, made the way vCenter's own authority (VMCA) makes them: a root
// certificate authority of the lab's own signs the lab's certificate (for 127.0.0.1 and
// localhost), the lab sends both in its handshake, and it hands the root out at
// /certs/download.zip in vCenter's layout (certs.go).
//
// Three ways to run:
//   - by default a fresh authority and certificate are made in memory at each start: a new
//     vCenter every time;
//   - with --ca-dir DIR the authority and the certificate are kept in DIR (ca.pem, ca.key,
//     server.pem, server.key; made when missing) and survive restarts, as a vCenter's do.
//     --renew-certificate makes a new certificate from the same authority at start (a
//     renewal); --replace-certificate-authority makes a new authority and a certificate from it
//     (a replaced authority);
//   - with --cert-file and --key-file the lab serves that certificate (kept across starts; a
//     self-signed one is made when both are missing) and has no authority of its own: nothing
//     is offered for download.
//
// While running, the lab renews or replaces its certificate on a line of standard input
// (commands.go); connections made afterwards get the new one. The vCenter identity the lab
// reports (about.instanceUuid) is new at each start, and kept in --ca-dir with the authority:
// a vCenter keeps its identity when its certificate or even its authority is replaced. A lab
// with --cert-file keeps the simulator's fixed identity, as before authorities.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	caCertName     = "ca.pem"
	caKeyName      = "ca.key"
	serverCertName = "server.pem"
	serverKeyName  = "server.key"
	identityName   = "instance-uuid"
	// The simulator's own identity, kept for a lab serving a given certificate (--cert-file).
	simulatorInstanceUUID = "dbed6e0c-bd88-4ef6-b594-21283e1c677f"
	labOrganization       = "Checkpoint Wizard training lab"
)

// authority is the lab's root certificate authority.
type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// certStore holds what the lab serves; the handshake reads it under the lock, so a renewal
// takes effect for the next connection.
type certStore struct {
	mu       sync.RWMutex
	served   tls.Certificate // the leaf, then the authority's certificate
	ca       *authority      // nil with --cert-file
	dir      string          // --ca-dir, "" in memory
	zipFile  string          // --certs-zip: served instead of the zip made from the authority
	identity string          // about.instanceUuid: kept with --ca-dir, new at each start else
}

// newCertStore sets up the certificates for the options given (see the file comment).
func newCertStore(o *options) (*certStore, error) {
	s := &certStore{dir: o.caDir, zipFile: o.certsZip, identity: simulatorInstanceUUID}
	var err error
	switch {
	case o.certFile != "":
		s.served, err = loadOrCreateCert(o.certFile, o.keyFile)
		return s, err
	case o.caDir != "":
		if err = s.loadDir(o.renewCertificate, o.replaceAuthority); err != nil {
			return nil, err
		}
		s.identity, err = loadIdentity(o.caDir)
		return s, err
	default:
		if s.ca, err = newAuthority(); err != nil {
			return nil, err
		}
		if s.identity, err = newIdentity(); err != nil {
			return nil, err
		}
		return s, s.issue()
	}
}

// current is the certificate served now (the leaf, then the authority's certificate).
func (s *certStore) current() tls.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.served
}

// configForClient is the TLS server's GetConfigForClient: the settings with the current
// certificate, whatever name the client asks for (an address sends none).
func (s *certStore) configForClient(*tls.ClientHelloInfo) (*tls.Config, error) {
	return &tls.Config{
		Certificates: []tls.Certificate{s.current()},
		MinVersion:   tls.VersionTLS12,
		ClientAuth:   tls.RequestClientCert, // as the simulator sets it (certificate logins)
	}, nil
}

// thumbprints returns the SHA-256 fingerprints of the certificate and of the authority ("" when
// there is none), as openssl prints them.
func (s *certStore) thumbprints() (leaf, root string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	leaf = fingerprint(s.served.Certificate[0])
	if s.ca != nil {
		root = fingerprint(s.ca.cert.Raw)
	}
	return leaf, root
}

// instanceUUID is the vCenter identity the lab reports (about.instanceUuid).
func (s *certStore) instanceUUID() string {
	return s.identity
}

// newIdentity is a random (version 4) UUID.
func newIdentity() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := fmt.Sprintf("%x", b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// loadIdentity reads the identity kept in the folder, or makes and keeps one.
func loadIdentity(dir string) (string, error) {
	path := filepath.Join(dir, identityName)
	data, err := os.ReadFile(path)
	if err == nil {
		text := strings.TrimSpace(string(data))
		if len(text) == 36 && strings.Count(text, "-") == 4 {
			return text, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	id, err := newIdentity()
	if err != nil {
		return "", err
	}
	return id, writeNew(path, []byte(id+"\n"))
}

// renew gives the lab a new certificate from the same authority (new key, new serial).
func (s *certStore) renew() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ca == nil {
		return errors.New("this lab serves a certificate it was given (--cert-file) and has no authority to renew it")
	}
	return s.issueLocked()
}

// replaceAuthority gives the lab a new authority and a certificate from it.
func (s *certStore) replaceAuthority() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ca == nil {
		return errors.New("this lab serves a certificate it was given (--cert-file) and has no authority to replace")
	}
	ca, err := newAuthority()
	if err != nil {
		return err
	}
	if s.dir != "" {
		if err := writeAuthority(s.dir, ca); err != nil {
			return err
		}
	}
	s.ca = ca
	return s.issueLocked()
}

func (s *certStore) issue() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked()
}

// issueLocked makes a certificate from the authority, serves it, and keeps it in the folder.
func (s *certStore) issueLocked() error {
	certPEM, keyPEM, err := newLeaf(s.ca)
	if err != nil {
		return err
	}
	if s.dir != "" {
		if err := writeNew(filepath.Join(s.dir, serverKeyName), keyPEM); err != nil {
			return err
		}
		if err := writeNew(filepath.Join(s.dir, serverCertName), certPEM); err != nil {
			return err
		}
	}
	return s.serveLocked(certPEM, keyPEM)
}

func (s *certStore) serveLocked(certPEM, keyPEM []byte) error {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	cert.Certificate = append(cert.Certificate, s.ca.cert.Raw) // sent with it, as vCenter does
	s.served = cert
	return nil
}

// loadDir reads or makes the authority and the certificate kept in --ca-dir.
func (s *certStore) loadDir(renew, replace bool) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ca, err := readAuthority(s.dir)
	switch {
	case err == nil && !replace:
		s.ca = ca
	case err == nil || errors.Is(err, os.ErrNotExist):
		if s.ca, err = newAuthority(); err != nil {
			return err
		}
		if err := writeAuthority(s.dir, s.ca); err != nil {
			return err
		}
		renew = true // a new authority needs a certificate of its own
	default:
		return err
	}
	if !renew {
		certPEM, certErr := os.ReadFile(filepath.Join(s.dir, serverCertName))
		keyPEM, keyErr := os.ReadFile(filepath.Join(s.dir, serverKeyName))
		if certErr == nil && keyErr == nil && issuedBy(certPEM, s.ca.cert) {
			return s.serveLocked(certPEM, keyPEM)
		}
		// Missing, damaged, or from another authority: make one from this authority.
	}
	return s.issueLocked()
}

func issuedBy(certPEM []byte, ca *x509.Certificate) bool {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	return err == nil && cert.CheckSignatureFrom(ca) == nil
}

func readAuthority(dir string) (*authority, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, caCertName))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, caKeyName))
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("the authority in %s cannot be read: %v (remove %s and %s to make a new one)", dir, err, caCertName, caKeyName)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, err
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok || !cert.IsCA {
		return nil, fmt.Errorf("%s in %s is not a certificate authority", caCertName, dir)
	}
	return &authority{cert: cert, key: key}, nil
}

func writeAuthority(dir string, ca *authority) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return err
	}
	if err := writeNew(filepath.Join(dir, caKeyName), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return err
	}
	return writeNew(filepath.Join(dir, caCertName), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}))
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// newAuthority makes a root certificate authority valid for ten years.
func newAuthority() (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:         "Training lab certificate authority " + strings.ToUpper(serial.Text(16)[:8]),
			Organization:       []string{labOrganization},
			OrganizationalUnit: []string{"vCenter certificate authority (lab)"},
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key}, nil
}

// newLeaf makes the lab's certificate for 127.0.0.1 and localhost, valid for two years.
func newLeaf(ca *authority) (certPEM, keyPEM []byte, err error) {
	return newServerCert("localhost", 2, ca)
}

// newServerCert makes a certificate for 127.0.0.1 and localhost valid for the given years, and
// its key, as PEM: signed by ca or, with ca nil, by its own key (then it is also its own
// authority, so that a client can trust it as one).
func newServerCert(commonName string, years int, ca *authority) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{labOrganization}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(years, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	parent, parentKey := tmpl, crypto.Signer(key)
	if ca != nil {
		parent, parentKey = ca.cert, ca.key
	} else {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign
		tmpl.IsCA = true
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// loadOrCreateCert returns the certificate given with --cert-file and --key-file: read when
// both exist, a new self-signed one when both are missing (kept in those files).
func loadOrCreateCert(certFile, keyFile string) (tls.Certificate, error) {
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	switch {
	case certErr == nil && keyErr == nil:
		return tls.LoadX509KeyPair(certFile, keyFile)
	case os.IsNotExist(certErr) && os.IsNotExist(keyErr):
		certPEM, keyPEM, err := newSelfSigned()
		if err != nil {
			return tls.Certificate{}, err
		}
		if err := writeNew(keyFile, keyPEM); err != nil {
			return tls.Certificate{}, err
		}
		if err := writeNew(certFile, certPEM); err != nil {
			return tls.Certificate{}, err
		}
		return tls.X509KeyPair(certPEM, keyPEM)
	case certErr == nil || keyErr == nil:
		return tls.Certificate{}, fmt.Errorf("only one of %s and %s exists: remove it to make a new pair", certFile, keyFile)
	}
	if certErr != nil {
		return tls.Certificate{}, certErr
	}
	return tls.Certificate{}, keyErr
}

// writeNew writes a file atomically (temporary file, then rename), readable by its owner only.
func writeNew(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".checkpoint-lab-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(name, 0o600)
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		_ = os.Remove(name)
	}
	return werr
}

// newSelfSigned makes a certificate signed by its own key (for --cert-file when missing),
// valid for ten years.
func newSelfSigned() (certPEM, keyPEM []byte, err error) {
	return newServerCert("127.0.0.1", 10, nil)
}

// fingerprint is a certificate's SHA-256 fingerprint as openssl prints it.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b bytes.Buffer
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}
