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
		{"judge provider", []string{"--judge-provider", "mistral"}, nil, "--judge-provider"},
		{"judge band order", []string{"--judge-band", "0.8,0.4"}, nil, "--judge-band"},
		{"judge band form", nil, map[string]string{"LUMINA_JUDGE_BAND": "0.5"}, "--judge-band"},
		{"judge sample rate", []string{"--judge-sample-rate", "1.5"}, nil, "--judge-sample-rate"},
		{"judge sample rate number", nil, map[string]string{"LUMINA_JUDGE_SAMPLE_RATE": "often"}, "want a number"},
		{"judge zero budget", []string{"--judge-daily-budget-usd", "0"}, nil, "--judge-provider off"},
		{"judge concurrency", []string{"--judge-concurrency", "0"}, nil, "--judge-concurrency"},
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

func TestJudgeConfig(t *testing.T) {
	cfg, err := parseConfig("serve", []string{"--judge-band", "0.3, 0.9"}, env(map[string]string{
		"LUMINA_JUDGE_SAMPLE_RATE": "0.05", "LUMINA_JUDGE_DAILY_BUDGET_USD": "-1", "LUMINA_JUDGE_PROVIDER": "openai", "LUMINA_JUDGE_MODEL": "gpt-4o-mini",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.judgeLow != 0.3 || cfg.judgeHigh != 0.9 || cfg.JudgeSampleRate != 0.05 || cfg.JudgeDailyBudget != -1 || cfg.JudgeProvider != "openai" || cfg.JudgeConcurrency != 4 {
		t.Errorf("got band %v..%v, rate %v, budget %v, provider %s, concurrency %d", cfg.judgeLow, cfg.judgeHigh, cfg.JudgeSampleRate, cfg.JudgeDailyBudget, cfg.JudgeProvider, cfg.JudgeConcurrency)
	}
	_, st := newJudge(cfg, nil, nil)
	if st.Configured || !strings.Contains(st.Reason, "OPENAI_API_KEY") {
		t.Errorf("openai judge without a key: got %+v, want not configured, naming OPENAI_API_KEY", st)
	}
	cfg.OpenAIAPIKey = "sk-test"
	if _, st := newJudge(cfg, nil, nil); !st.Configured || st.Model != "gpt-4o-mini" {
		t.Errorf("openai judge with a key: got %+v, want active", st)
	}
	cfg.JudgeProvider = "off"
	if j, st := newJudge(cfg, nil, nil); st.Configured || j.Configured() || !strings.Contains(st.Reason, "off") {
		t.Errorf("judge off: got %+v", st)
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
