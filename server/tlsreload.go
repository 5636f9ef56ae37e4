package server

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
)

// certPair holds the server's TLS certificate, read from its files at start
// and again on ReloadTLS, so a renewed certificate is served without a
// restart: new connections get the pair loaded last, open ones keep theirs.
type certPair struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

func loadCertPair(certFile, keyFile string) (*certPair, error) {
	p := &certPair{certFile: certFile, keyFile: keyFile}
	if err := p.reload(); err != nil {
		return nil, err
	}
	return p, nil
}

// reload reads both files; on any error the pair served stays as it was.
func (p *certPair) reload() error {
	c, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate: %w", err)
	}
	p.cur.Store(&c)
	return nil
}

func (p *certPair) config() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return p.cur.Load(), nil },
	}
}

// ReloadTLS reads the TLS certificate and key files again (fieldworkd does
// on SIGHUP): connections made from now on, to the API and the live view,
// get the new pair. A pair that does not load is refused and the old one
// kept. Without TLS it does nothing.
func (s *Server) ReloadTLS() error {
	if s.certs == nil {
		return nil
	}
	return s.certs.reload()
}
