package testenv

import (
	"bytes"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy between a client under test and a real service, which a test can cut
// (every open connection closed, new ones refused) and restore, to simulate an outage of a
// shared service without stopping it for everyone else, or stall (connections stay open
// and lose everything sent), as a network that drops packets does, or delay (everything
// arrives, late), as a distant or congested network does.
type Proxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]bool
	stalled atomic.Bool
	delay   atomic.Int64 // time.Duration
	wg      sync.WaitGroup
}

// NewProxy listens on a random loopback port and forwards to target until the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every proxied connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

// Stall keeps every connection open but drops whatever crosses it from now on, either way:
// a request already written gets no answer and neither end notices, until Cut or Restore.
func (p *Proxy) Stall() { p.stalled.Store(true) }

// Delay makes whatever crosses a connection from now on, either way, arrive d later than it
// was sent; what is sent meanwhile is not held back by it (latency, not a slower link).
func (p *Proxy) Delay(d time.Duration) { p.delay.Store(int64(d)) }

// Restore accepts connections again, and ends a stall.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
	p.stalled.Store(false)
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.mu.Unlock()
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	type chunk struct {
		b  []byte
		at time.Time
	}
	late := make(chan chunk, 1024) // what is delayed, in order, with when to write it
	written := make(chan struct{})
	go func() {
		defer close(written)
		for c := range late {
			time.Sleep(time.Until(c.at))
			if _, err := dst.Write(c.b); err != nil {
				src.Close()
				for range late {
				}
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.stalled.Load() {
			late <- chunk{bytes.Clone(buf[:n]), time.Now().Add(time.Duration(p.delay.Load()))}
		}
		if err != nil {
			break
		}
	}
	close(late)
	<-written
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// ProxyURL starts a proxy to the service at raw (a postgres://, redis:// or nats:// URL) and
// returns it with raw rewritten to go through it.
func ProxyURL(t testing.TB, raw string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), defaultPorts[u.Scheme])
	}
	p := NewProxy(t, host)
	u.Host = p.Addr()
	return p, u.String()
}

var defaultPorts = map[string]string{"postgres": "5432", "postgresql": "5432", "redis": "6379", "nats": "4222"}
