package main

// Compressed answers, as vCenter gives them: a SOAP client that sends "Accept-Encoding: gzip"
// (pyVmomi does by default) gets its answer gzip-compressed. On a slow link this is most of
// the time of a large read (the 10,000-VM list is 13 MB of XML, well under a tenth of that
// compressed).

import (
	"compress/gzip"
	"net/http"
	"strings"
)

// acceptsGzip tells whether the request asks for a gzip-compressed answer.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(name, "gzip") {
			return true
		}
	}
	return false
}

// gzipWriter compresses what is written through it; Close ends the stream.
type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	started bool
}

func newGzipWriter(w http.ResponseWriter) *gzipWriter {
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // the level is valid
	return &gzipWriter{ResponseWriter: w, gz: gz}
}

func (g *gzipWriter) WriteHeader(status int) {
	if !g.started {
		g.started = true
		h := g.ResponseWriter.Header()
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
	}
	g.ResponseWriter.WriteHeader(status)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.started {
		g.WriteHeader(http.StatusOK)
	}
	return g.gz.Write(b)
}

// Close flushes the compressed stream (an answer with no body still gets a valid empty one).
func (g *gzipWriter) Close() error {
	if !g.started {
		g.WriteHeader(http.StatusOK)
	}
	return g.gz.Close()
}
