package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/queue"
	"github.com/use-lumina/lumina/internal/store/postgres/pgtest"
	"github.com/use-lumina/lumina/internal/testenv"
)

// These tests run Lumina against the real PostgreSQL and NATS that CI provides, isolated in
// their own schema and stream, and break those services through testenv.Proxy.

// pgSchema creates a schema for the test and returns a URL that uses it (through addr when
// addr is not empty); the schema is dropped when the test ends.
func pgSchema(t *testing.T, addr string) string {
	return pgtest.Schema(t, "lumina_e2e_", addr)
}

func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return u.Hostname() + ":5432"
	}
	return u.Host
}

// natsStream returns flags for a stream of the test's own on the external NATS (through
// addr when not empty), deleted when the test ends.
func natsStream(t *testing.T, addr string) []string {
	t.Helper()
	raw := testenv.URL(t, testenv.NATSURL)
	name := strings.ToUpper(testenv.Name("LUMINA_E2E_"))
	t.Cleanup(func() {
		if err := queue.DeleteStreams(context.Background(), raw, name); err != nil {
			t.Errorf("clean up streams: %v", err)
		}
	})
	target := raw
	if addr != "" {
		u, _ := url.Parse(raw)
		u.Host = addr
		target = u.String()
	}
	return []string{"--nats-url", target, "--queue-stream", name, "--queue-subject-prefix", strings.ToLower(name)}
}

func sendTrace(t *testing.T, ingestURL string, spans int) (string, int) {
	t.Helper()
	td, id := buildTraces("prod", spans)
	b, err := ptraceBody(td)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, ingestURL+"/v1/traces", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return id, 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return id, resp.StatusCode
}

// TestPostgresOutage: while PostgreSQL is unreachable ingestion keeps answering 200
// (JetStream buffers), the worker retries, and after recovery every acknowledged span is
// stored exactly once.
func TestPostgresOutage(t *testing.T) {
	pg := testenv.NewProxy(t, hostPort(t, testenv.URL(t, testenv.PostgresURL)))
	a := startTestApp(t, "--database-url", pgSchema(t, pg.Addr()))
	ingest := "http://" + a.addr("ingest")
	var ids []string
	for i := 0; i < 10; i++ {
		id, code := sendTrace(t, ingest, 3)
		if code != 200 {
			t.Fatalf("before the outage: got %d", code)
		}
		ids = append(ids, id)
	}
	a.waitTrace(ids[len(ids)-1], 3)
	pg.Cut()
	for i := 0; i < 20; i++ {
		id, code := sendTrace(t, ingest, 3)
		if code != 200 {
			t.Fatalf("during the PostgreSQL outage: got %d, want 200 (the queue buffers)", code)
		}
		ids = append(ids, id)
	}
	time.Sleep(2 * time.Second) // the worker fails and retries meanwhile
	pg.Restore()
	for _, id := range ids {
		if tr := a.waitTrace(id, 3); len(tr.Spans) != 3 {
			t.Fatalf("trace %s: got %d spans, want 3", id, len(tr.Spans))
		}
	}
}

// TestNATSOutage: while NATS is unreachable (the connection closed, then stalled) ingestion
// answers 503 with Retry-After, nothing it acknowledged is lost, and it recovers without a
// restart.
func TestNATSOutage(t *testing.T) {
	proxy := testenv.NewProxy(t, hostPort(t, testenv.URL(t, testenv.NATSURL)))
	// A request delivered to the worker as its connection broke is lost in transit and
	// redelivered after the ack wait: 5 s here, so that it lands within waitTrace's 20 s.
	a := startTestApp(t, append(natsStream(t, proxy.Addr()), "--queue-ack-wait", "5s")...)
	ingest := "http://" + a.addr("ingest")
	acked := map[string]bool{}
	for i := 0; i < 5; i++ {
		id, code := sendTrace(t, ingest, 2)
		if code != 200 {
			t.Fatalf("before the outage: got %d", code)
		}
		acked[id] = true
	}
	proxy.Cut()
	for i := 0; i < 2; i++ {
		id, code := sendTrace(t, ingest, 2)
		switch code {
		case http.StatusServiceUnavailable:
		case http.StatusOK:
			acked[id] = true // acknowledged before the cut took effect
		default:
			t.Fatalf("during the NATS outage: got %d, want 503", code)
		}
		if code == http.StatusOK && i == 1 {
			t.Fatalf("two requests acknowledged with NATS cut off")
		}
	}
	proxy.Restore()
	recover := func() {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			id, code := sendTrace(t, ingest, 2)
			if code == http.StatusOK {
				acked[id] = true
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("ingestion did not recover within 30s after NATS came back (last status %d)", code)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	recover()
	// A network that drops packets without closing the connection: nothing answers, so the
	// publish times out and the client is told to retry.
	proxy.Stall()
	if id, code := sendTrace(t, ingest, 2); code != http.StatusServiceUnavailable {
		t.Fatalf("with NATS stalled: got %d for trace %s, want 503", code, id)
	}
	proxy.Cut()
	proxy.Restore()
	recover()
	for id := range acked {
		a.waitTrace(id, 2)
	}
}

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// luminaBinary builds cmd/lumina once per test run.
func luminaBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lumina-bin")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "lumina")
		build := exec.Command("go", "build", "-o", binaryPath, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			binaryErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// TestSplitRolesScaleOut runs two ingest processes, two worker processes and an API process
// on one PostgreSQL schema and one NATS stream, SIGKILLs one worker mid-stream, and checks
// that every acknowledged span is stored exactly once.
func TestSplitRolesScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five real processes")
	}
	bin := luminaBinary(t)
	shared := append([]string{"--database-url", pgSchema(t, ""), "--queue-ack-wait", "2s", "--log-level", "warn",
		"--otlp-http-addr", "off", "--otlp-grpc-addr", "off", "--replay-addr", "off", "--web-addr", "off"}, natsStream(t, "")...)
	if out, err := exec.Command(bin, append([]string{"migrate"}, shared...)...).CombinedOutput(); err != nil {
		t.Fatalf("lumina migrate: %v\n%s", err, out)
	}
	start := func(role string) (*exec.Cmd, string) {
		addr := freeAddr(t)
		args := append([]string{"serve", "--roles", role, "--ingest-addr", "off", "--api-addr", "off", "--worker-addr", "off"}, shared...)
		args = append(args, "--"+role+"-addr", addr)
		return startProcess(t, bin, args, "http://"+addr), "http://" + addr
	}
	_, ingestA := start(roleIngest)
	_, ingestB := start(roleIngest)
	_, api := start(roleAPI)
	workerA, _ := start(roleWorker)
	start(roleWorker)

	var mu sync.Mutex
	acked := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, ingest := range []string{ingestA, ingestB, ingestA, ingestB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				id, code := sendTrace(t, ingest, 3)
				if code == http.StatusOK {
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := workerA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cancel()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		stored, err := listSpanCounts(api)
		if err != nil {
			t.Fatal(err)
		}
		missing := 0
		for id := range acked {
			switch n := stored[id]; {
			case n > 3:
				t.Fatalf("trace %s stored with %d spans, want 3", id, n)
			case n < 3:
				missing++
			}
		}
		if missing == 0 {
			t.Logf("%d acknowledged traces through 2 ingest processes, stored exactly once by 2 workers (one SIGKILLed)", len(acked))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged traces missing", missing, len(acked))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
