package main

// /certs/download.zip: the lab's authority for download, as vCenter offers its own on its
// landing page. The zip has vCenter's layout:
//
//	certs/lin/<hash>.0       the authority's certificate, PEM
//	certs/lin/<hash>.r0      its (empty) certificate revocation list, PEM
//	certs/mac/<hash>.0       the same for macOS
//	certs/mac/<hash>.r0
//	certs/win/<hash>.0.crt   the certificate, DER
//	certs/win/<hash>.0.crl   the revocation list, DER
//
// <hash> has the shape of OpenSSL's subject hash (8 hex digits); the lab does not compute
// OpenSSL's exact canonical form, which no reader of the file relies on. Like vCenter, the file
// is served to anyone without a session. With --certs-zip FILE the lab serves that file instead
// (tests and training of a damaged or hostile download); a lab without an authority
// (--cert-file) answers 404.

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // only the shape of a file name, as OpenSSL's hash has
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"time"
)

const certsPath = "/certs/download.zip"

// serveCerts answers GET /certs/download.zip.
func (s *certStore) serveCerts(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	data, err := s.downloadZip()
	if err != nil {
		logf("%s: %v", certsPath, err)
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="download.zip"`)
	http.ServeContent(w, r, "download.zip", time.Time{}, bytes.NewReader(data))
}

type errNoAuthority struct{}

func (errNoAuthority) Error() string {
	return "this lab serves a certificate it was given and offers no authority for download"
}

// downloadZip is the file served: --certs-zip, else the authority in vCenter's layout.
func (s *certStore) downloadZip() ([]byte, error) {
	if s.zipFile != "" {
		return os.ReadFile(s.zipFile)
	}
	s.mu.RLock()
	ca := s.ca
	s.mu.RUnlock()
	if ca == nil {
		return nil, errNoAuthority{}
	}
	crl, err := ca.emptyRevocationList()
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(ca.cert.RawSubject) //nolint:gosec // see the file comment
	hash := hex.EncodeToString(sum[:4])
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
	crlPEM := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl})
	files := []struct {
		name string
		data []byte
	}{
		{"certs/lin/" + hash + ".0", certPEM},
		{"certs/lin/" + hash + ".r0", crlPEM},
		{"certs/mac/" + hash + ".0", certPEM},
		{"certs/mac/" + hash + ".r0", crlPEM},
		{"certs/win/" + hash + ".0.crt", ca.cert.Raw},
		{"certs/win/" + hash + ".0.crl", crl},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	modified := ca.cert.NotBefore
	for _, f := range files {
		header := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: modified}
		out, err := zw.CreateHeader(header)
		if err != nil {
			return nil, err
		}
		if _, err := out.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// emptyRevocationList is the authority's revocation list: nothing revoked.
func (ca *authority) emptyRevocationList() ([]byte, error) {
	now := time.Now()
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(1),
		ThisUpdate: now.Add(-time.Hour),
		NextUpdate: now.AddDate(0, 0, 7),
	}
	return x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
}
