package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/otlp"
	"github.com/use-lumina/lumina/internal/queue"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigPrecedence(t *testing.T) {
	cfg, err := parseConfig("serve", []string{"--api-addr", ":9999"}, env(map[string]string{
		"LUMINA_API_ADDR": ":7777", "LUMINA_DATA_DIR": "/tmp/x", "LUMINA_MAX_BODY_BYTES": "2MiB",
		"LUMINA_QUEUE_ACK_WAIT": "5s", "LUMINA_DAILY_TRACE_LIMIT": "10",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIAddr != ":9999" || cfg.DataDir != "/tmp/x" || cfg.MaxBodyBytes != 2<<20 || cfg.QueueAckWait != 5*time.Second || cfg.DailyTraceLimit != 10 {
		t.Errorf("got %+v: want the flag to win over the env and the env over defaults", cfg)
	}
	if cfg.IngestAddr != ":8080" || cfg.OTLPHTTPAddr != ":4318" || cfg.OTLPGRPCAddr != ":4317" || cfg.WebAddr != ":3000" || cfg.ReplayAddr != ":8082" {
		t.Errorf("got default ports %s %s %s %s %s, want the FAQ's", cfg.IngestAddr, cfg.OTLPHTTPAddr, cfg.OTLPGRPCAddr, cfg.WebAddr, cfg.ReplayAddr)
	}
	if len(cfg.roles) != len(allRoles) {
		t.Errorf("got roles %v, want all", cfg.roles)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"split roles on embedded queue", []string{"--roles", "ingest"}, nil, "need a shared queue: set NATS_URL"},
		{"split worker on sqlite", []string{"--roles", "worker"}, map[string]string{"NATS_URL": "nats://x:4222"}, "need a shared database: set DATABASE_URL"},
		{"unknown role", []string{"--roles", "ingest,bogus"}, nil, `unknown role "bogus"`},
		{"bad address", []string{"--api-addr", "8081"}, nil, "want host:port"},
		{"bad duration env", nil, map[string]string{"LUMINA_QUEUE_ACK_WAIT": "soon"}, "LUMINA_QUEUE_ACK_WAIT"},
		{"bad size", []string{"--max-body-bytes", "big"}, nil, "want a size"},
		{"bad bool", nil, map[string]string{"AUTH_REQUIRED": "maybe"}, "want true or false"},
		{"log level", []string{"--log-level", "loud"}, nil, "--log-level"},
		{"stray argument", []string{"extra"}, nil, "unexpected arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig("serve", tc.args, env(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := parseConfig("serve", []string{"--roles", "ingest,worker"}, env(map[string]string{"NATS_URL": "nats://x", "DATABASE_URL": "postgres://x"}), io.Discard); err != nil {
		t.Errorf("split roles with shared engines: got %v, want nil", err)
	}
}

func TestHelpListsEverything(t *testing.T) {
	var out strings.Builder
	_, err := parseConfig("serve", []string{"--help"}, env(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
	docs, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range (&config{}).options() {
		if !strings.Contains(out.String(), "-"+o.flag) || !strings.Contains(out.String(), o.env) {
			t.Errorf("--help lacks --%s / %s", o.flag, o.env)
		}
		if !strings.Contains(string(docs), "`--"+o.flag+"`") || !strings.Contains(string(docs), "`"+o.env+"`") {
			t.Errorf("docs/configuration.md lacks --%s / %s", o.flag, o.env)
		}
	}
}

// The receiver publishes with otlp's signal names and the worker decodes by queue's.
func TestSignalNamesAgree(t *testing.T) {
	if otlp.SignalTraces != queue.SignalTraces || otlp.SignalLogs != queue.SignalLogs {
		t.Fatalf("otlp signals %q/%q differ from queue signals %q/%q", otlp.SignalTraces, otlp.SignalLogs, queue.SignalTraces, queue.SignalLogs)
	}
}
