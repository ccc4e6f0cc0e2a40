package loadgen

import (
	"bytes"
	"errors"
	"flag"
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
