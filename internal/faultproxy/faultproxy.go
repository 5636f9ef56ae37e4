// Package faultproxy is a TCP proxy for fault tests: it forwards
// connections to a target and cuts some of them after a random number of
// bytes, chosen from a seeded source so a failing run can be repeated.
package faultproxy

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
)

// Proxy forwards connections from Addr to Target.
type Proxy struct {
	Target string
	// CutProbability is the chance that a new connection is cut.
	CutProbability float64
	// MaxBytes bounds the bytes (both directions) a cut connection carries.
	MaxBytes int

	lis  net.Listener
	mu   sync.Mutex
	rng  *rand.Rand
	on   atomic.Bool
	cuts atomic.Int64
}

// Start listens on a free loopback port and forwards to target.
func Start(target string, seed uint64, cutProbability float64, maxBytes int) (*Proxy, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Target: target, CutProbability: cutProbability, MaxBytes: maxBytes, lis: lis, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	p.on.Store(true)
	go p.accept()
	return p, nil
}

// Addr is the address clients dial.
func (p *Proxy) Addr() string { return p.lis.Addr().String() }

// SetFaults turns cutting on or off (new connections only).
func (p *Proxy) SetFaults(on bool) { p.on.Store(on) }

// Cuts is how many connections have been cut.
func (p *Proxy) Cuts() int64 { return p.cuts.Load() }

// Close stops accepting.
func (p *Proxy) Close() error { return p.lis.Close() }

func (p *Proxy) accept() {
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		limit := int64(-1)
		p.mu.Lock()
		if p.on.Load() && p.rng.Float64() < p.CutProbability {
			limit = int64(p.rng.IntN(p.MaxBytes + 1))
		}
		p.mu.Unlock()
		go p.serve(c, limit)
	}
}

func (p *Proxy) serve(client net.Conn, limit int64) {
	server, err := net.Dial("tcp", p.Target)
	if err != nil {
		client.Close()
		return
	}
	var used atomic.Int64
	var once, cutOnce sync.Once
	closeBoth := func() {
		once.Do(func() {
			client.Close()
			server.Close()
		})
	}
	pipe := func(dst, src net.Conn) {
		defer closeBoth()
		buf := make([]byte, 4096)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if limit >= 0 {
					total := used.Add(int64(n))
					if total > limit {
						keep := int64(n) - (total - limit)
						if keep > 0 {
							dst.Write(buf[:keep])
						}
						cutOnce.Do(func() { p.cuts.Add(1) })
						return
					}
				}
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return // EOF or a closed connection: either way this direction is done
			}
		}
	}
	go pipe(server, client)
	pipe(client, server)
}
