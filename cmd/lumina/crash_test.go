package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCrashLosesNothingAcknowledged runs the real binary, streams acknowledged batches into
// it, SIGKILLs it mid-stream several times, restarts it on the same data directory, and
// checks that every acknowledged span is stored exactly once.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := luminaBinary(t)
	dataDir := t.TempDir()
	ingest, apiAddr := freeAddr(t), freeAddr(t)
	args := []string{"serve", "--data-dir", dataDir, "--ingest-addr", ingest, "--api-addr", apiAddr,
		"--otlp-http-addr", "off", "--otlp-grpc-addr", "off", "--replay-addr", "off", "--web-addr", "off", "--worker-addr", "off",
		"--queue-ack-wait", "2s", "--log-level", "warn"}

	const spansPerTrace = 4
	var mu sync.Mutex
	acked := map[string]bool{}
	for round := 0; round < 3; round++ {
		proc := startProcess(t, bin, args, "http://"+ingest)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for c := 0; c < 4; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					td, id := buildTraces(fmt.Sprintf("crash-%d", round), spansPerTrace)
					b, err := ptraceBody(td)
					if err != nil {
						return
					}
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+ingest+"/v1/traces", bytes.NewReader(b))
					req.Header.Set("Content-Type", "application/x-protobuf")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						continue // killed mid-request: not acknowledged
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(700+300*round) * time.Millisecond)
		if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = proc.Wait()
		cancel()
		wg.Wait()
	}
	if len(acked) == 0 {
		t.Fatal("no request was acknowledged before the kills; the test proves nothing")
	}
	startProcess(t, bin, args, "http://"+ingest)
	deadline := time.Now().Add(90 * time.Second)
	for {
		stored, err := listSpanCounts("http://" + apiAddr)
		if err != nil {
			t.Fatal(err)
		}
		missing, wrong := 0, 0
		for id := range acked {
			switch n := stored[id]; {
			case n == 0 || n < spansPerTrace:
				missing++
			case n > spansPerTrace:
				wrong++
			}
		}
		if wrong > 0 {
			t.Fatalf("%d traces have more than %d spans: stored more than once", wrong, spansPerTrace)
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged traces were not (completely) stored after 3 SIGKILLs", missing, len(acked))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d acknowledged traces (%d spans) all stored exactly once across 3 SIGKILLs", len(acked), len(acked)*spansPerTrace)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess runs the binary and waits until base/ready answers 200. The process is
// stopped with SIGTERM when the test ends (tests may kill it earlier), and its stderr is
// logged when the test failed.
func startProcess(t *testing.T, bin string, args []string, base string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("lumina %s stderr:\n%s", strings.Join(args, " "), stderr.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("lumina %s did not become ready", strings.Join(args, " "))
	return nil
}

// listSpanCounts pages through the whole trace list: trace id → span count.
func listSpanCounts(api string) (map[string]int, error) {
	out := map[string]int{}
	cursor := ""
	for {
		resp, err := http.Get(api + "/api/v1/traces?limit=1000&cursor=" + cursor)
		if err != nil {
			return nil, err
		}
		var page struct {
			Traces []struct {
				TraceID   string `json:"trace_id"`
				SpanCount int    `json:"span_count"`
			} `json:"traces"`
			NextCursor string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("decode trace list: %w", err)
		}
		for _, tr := range page.Traces {
			out[tr.TraceID] = tr.SpanCount
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}
