package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// A listener that cannot bind fails start with an error (and closes what was opened),
// rather than crashing the process.
func TestStartFailsCleanlyOnBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg, err := parseConfig("serve", []string{
		"--data-dir", t.TempDir(), "--ingest-addr", busy.Addr().String(), "--otlp-http-addr", "off", "--otlp-grpc-addr", "off",
		"--api-addr", "off", "--worker-addr", "off", "--replay-addr", "off", "--web-addr", "off",
	}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "listen ingest") || a != nil {
		t.Fatalf("got app %v, error %v; want no app and a listen error", a, err)
	}
}
