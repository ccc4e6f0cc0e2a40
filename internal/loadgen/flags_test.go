package loadgen

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	cfg, err := ParseFlags([]string{
		"-protocol", "grpc", "-endpoint", "127.0.0.1:14317", "-gzip", "-clients", "8",
		"-spans-per-request", "512", "-spans-per-trace", "4", "-prompt-bytes", "-1",
		"-duration", "1m", "-warmup", "10s", "-span-rate", "20000", "-seed", "9",
		"-api", "http://127.0.0.1:8081", "-verify-sample", "0.1", "-api-key", "k1",
		"-header", "X-Tenant: t1",
	}, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("ParseFlags: %v", err)
	}
	want := Config{
		Protocol: ProtocolGRPC, Endpoint: "127.0.0.1:14317", Gzip: true, Clients: 8,
		SpansPerRequest: 512, SpansPerTrace: 4, PromptBytes: -1, Duration: time.Minute,
		Warmup: 10 * time.Second, SpanRate: 20000, Seed: 9, APIURL: "http://127.0.0.1:8081",
		VerifySample: 0.1,
	}
	got := cfg
	if got.Protocol != want.Protocol || got.Endpoint != want.Endpoint || !got.Gzip || got.Clients != want.Clients ||
		got.SpansPerRequest != want.SpansPerRequest || got.SpansPerTrace != want.SpansPerTrace ||
		got.PromptBytes != -1 || got.Duration != want.Duration || got.Warmup != want.Warmup ||
		got.SpanRate != want.SpanRate || got.Seed != want.Seed || got.APIURL != want.APIURL || got.VerifySample != want.VerifySample {
		t.Errorf("ParseFlags = %+v, want %+v", got, want)
	}
	if got.Headers["Authorization"] != "Bearer k1" || got.Headers["X-Tenant"] != "t1" {
		t.Errorf("Headers = %v, want Authorization and X-Tenant", got.Headers)
	}
	if r := cfg.withDefaults().Rate; r != 20000.0/512 {
		t.Errorf("Rate from -span-rate = %v, want %v", r, 20000.0/512)
	}
}

func TestFlagsHelpDocumentsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	_, err := ParseFlags([]string{"-help"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("ParseFlags(-help) error = %v, want flag.ErrHelp", err)
	}
	var cfg Config
	FlagSet(&cfg).VisitAll(func(f *flag.Flag) {
		if len(f.Usage) < 20 {
			t.Errorf("flag -%s has usage %q, want a description", f.Name, f.Usage)
		}
		if !strings.Contains(out.String(), "-"+f.Name) {
			t.Errorf("help output lacks -%s", f.Name)
		}
	})
}

func TestParseFlagsRejects(t *testing.T) {
	for _, args := range [][]string{
		{"-duration", "0"},
		{"-protocol", "thrift"},
		{"-header", "novalue"},
		{"extra"},
	} {
		if _, err := ParseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("ParseFlags(%q) = nil error, want one", args)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"-1", 0},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestBackoffHonoursServerAdvice(t *testing.T) {
	c := &client{jitter: rand.New(rand.NewPCG(1, 1))}
	if got := c.backoff(0, 2*time.Second); got != 2*time.Second {
		t.Errorf("backoff with Retry-After 2s = %v, want 2s", got)
	}
	if got := c.backoff(0, time.Hour); got != MaxRetryWait {
		t.Errorf("backoff with Retry-After 1h = %v, want the %v cap", got, MaxRetryWait)
	}
	for try := range 10 {
		d := 100 * time.Millisecond << min(try, 6)
		d = min(d, 5*time.Second)
		if got := c.backoff(try, 0); got < d/2 || got > d {
			t.Errorf("backoff(%d) = %v, want %v..%v", try, got, d/2, d)
		}
	}
}

func TestSummarise(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := summarise(ds)
	if l.Count != 100 || l.P50 != 50*time.Millisecond || l.P90 != 90*time.Millisecond ||
		l.P99 != 99*time.Millisecond || l.Max != 100*time.Millisecond || l.Mean != 50500*time.Microsecond {
		t.Errorf("summarise(1..100 ms) = %+v, want p50 50ms p90 90ms p99 99ms max 100ms mean 50.5ms", l)
	}
	if (summarise(nil) != Latency{}) {
		t.Error("summarise(nil) is not zero")
	}
}
