//go:build soak

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/loadgen"
)

// TestSoak runs the real binary under the load generator for SOAK_DURATION at
// SOAK_SPAN_RATE spans/s, SIGKILLs it at SOAK_KILLS random moments and restarts it on the
// same data, and then checks the generator's own ledger: every acknowledged span stored,
// exactly once. It samples the server's RSS and the queue's backlog throughout and prints
// them, so a run shows whether memory and lag stay flat. `make soak` runs it; set
// SOAK_DATABASE_URL to soak the PostgreSQL store instead of SQLite.
func TestSoak(t *testing.T) {
	duration := envDuration(t, "SOAK_DURATION", 10*time.Minute)
	spanRate := envFloat(t, "SOAK_SPAN_RATE", 3500)
	kills := int(envFloat(t, "SOAK_KILLS", 4))
	bin := luminaBinary(t)
	dataDir := t.TempDir()
	ingest, apiAddr, workerAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	args := []string{"serve", "--data-dir", dataDir, "--ingest-addr", ingest, "--api-addr", apiAddr, "--worker-addr", workerAddr,
		"--otlp-http-addr", "off", "--otlp-grpc-addr", "off", "--replay-addr", "off", "--web-addr", "off",
		"--daily-trace-limit", "0", "--log-level", "warn"}
	if db := os.Getenv("SOAK_DATABASE_URL"); db != "" {
		args = append(args, "--database-url", isolated(t, db))
	}

	var (
		mu   sync.Mutex
		proc = startProcess(t, bin, args, "http://"+ingest)
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Kill at random moments in the middle 80 % of the run, restarting each time.
	killAt := make([]time.Duration, kills)
	for i := range killAt {
		killAt[i] = duration/10 + time.Duration(rand.Int64N(int64(duration*8/10)))
	}
	start := time.Now()
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		slices.Sort(killAt)
		for _, at := range killAt {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(at))):
			}
			func() {
				mu.Lock()
				defer mu.Unlock() // startProcess may fail the test and end this goroutine
				_ = proc.Process.Signal(syscall.SIGKILL)
				_ = proc.Wait()
				t.Logf("%6.0fs SIGKILL; restarting", time.Since(start).Seconds())
				proc = startProcess(t, bin, args, "http://"+ingest)
			}()
		}
	}()

	// Sample RSS and backlog every 10 s.
	type sample struct {
		at             time.Duration
		rssMB, pending float64
	}
	var samples []sample
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			mu.Lock()
			pid := proc.Process.Pid
			mu.Unlock()
			s := sample{at: time.Since(start), rssMB: rssMB(pid), pending: metricValue("http://"+workerAddr+"/metrics", "lumina_queue_messages")}
			samples = append(samples, s)
			t.Logf("%6.0fs rss %6.1f MB, queue backlog %6.0f requests", s.at.Seconds(), s.rssMB, s.pending)
		}
	}()

	report, err := loadgen.Run(ctx, loadgen.Config{
		Endpoint: "http://" + ingest, Clients: 4, SpanRate: spanRate, Duration: duration,
		MaxRetries: 60, Timeout: 10 * time.Second, APIURL: "http://" + apiAddr, VerifyTimeout: 5 * time.Minute,
		Progress: time.Minute,
	}, testLogWriter{t})
	cancel()
	<-killerDone
	<-samplerDone
	if err != nil {
		t.Fatalf("loadgen: %v", err)
	}
	t.Logf("acknowledged %d traces (%d spans) at %.0f spans/s; %d requests failed after retries (%v)",
		report.TracesAcked, report.SpansAcked, report.SpansPerSec, report.RequestsFailed, report.Failures)
	if report.SpansAcked == 0 {
		t.Fatal("nothing was acknowledged: the soak proves nothing")
	}
	v := report.Verify
	if v == nil || report.Lost() {
		t.Fatalf("ledger check failed after %d SIGKILLs: %+v", kills, v)
	}
	t.Logf("ledger: %d traces checked, 0 missing, 0 with a wrong span count, across %d SIGKILLs", v.Checked, kills)
	if len(samples) > 0 {
		lo, hi := samples[0].rssMB, samples[0].rssMB
		maxPending := 0.0
		for _, s := range samples {
			lo, hi, maxPending = min(lo, s.rssMB), max(hi, s.rssMB), max(maxPending, s.pending)
		}
		t.Logf("rss %.1f–%.1f MB over %d samples; largest backlog %.0f requests", lo, hi, len(samples), maxPending)
	}
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// rssMB is a process's resident set size from /proc, 0 when unreadable.
func rssMB(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// metricValue reads one unlabelled gauge from a Prometheus text endpoint, -1 when absent.
func metricValue(url, name string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return -1
}
