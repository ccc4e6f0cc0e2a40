package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// reply is what a fake receiver answers to its n-th request (counting from 0).
type reply struct {
	status     int    // HTTP status; 0 means 200
	retryAfter string // Retry-After header
	rejected   int64  // partial_success.rejected_spans of a 200
}

// sink records what a fake receiver accepted: span count per trace id, exactly as
// decoded from the requests it answered with success.
type sink struct {
	mu       sync.Mutex
	requests int
	spans    map[[16]byte]int
	dups     int // trace ids that arrived in two different accepted requests
	dropped  [][16]byte
	policy   func(n int) reply
	// dropRequest, when ≥ 0, is the request number whose first trace is acknowledged but
	// not recorded: a deliberate loss for the verifier to find.
	dropRequest int
}

func newSink(policy func(n int) reply) *sink {
	if policy == nil {
		policy = func(int) reply { return reply{} }
	}
	return &sink{spans: map[[16]byte]int{}, policy: policy, dropRequest: -1}
}

// accept applies the policy to one decoded request and records it when it is accepted.
func (s *sink) accept(td ptrace.Traces) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.requests
	s.requests++
	r := s.policy(n)
	if r.status != 0 && r.status != http.StatusOK {
		return r
	}
	perTrace := map[[16]byte]int{}
	var order [][16]byte
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				id := [16]byte(spans.At(k).TraceID())
				if perTrace[id] == 0 {
					order = append(order, id)
				}
				perTrace[id]++
			}
		}
	}
	for _, id := range order {
		if n == s.dropRequest && len(s.dropped) == 0 {
			s.dropped = append(s.dropped, id)
			continue
		}
		if _, seen := s.spans[id]; seen {
			s.dups++
		}
		s.spans[id] += perTrace[id]
	}
	return r
}

func (s *sink) snapshot() map[[16]byte]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.spans)
}

// ServeHTTP is a fake OTLP/HTTP receiver: it decodes protobuf or JSON, gzip or not.
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	isJSON := r.Header.Get("Content-Type") == "application/json"
	req := ptraceotlp.NewExportRequest()
	if isJSON {
		err = req.UnmarshalJSON(raw)
	} else {
		err = req.UnmarshalProto(raw)
	}
	if err != nil {
		http.Error(w, "decode: "+err.Error(), http.StatusBadRequest)
		return
	}
	rep := s.accept(req.Traces())
	if rep.status != 0 && rep.status != http.StatusOK {
		if rep.retryAfter != "" {
			w.Header().Set("Retry-After", rep.retryAfter)
		}
		http.Error(w, "fake refusal", rep.status)
		return
	}
	resp := ptraceotlp.NewExportResponse()
	if rep.rejected > 0 {
		resp.PartialSuccess().SetRejectedSpans(rep.rejected)
		resp.PartialSuccess().SetErrorMessage("fake rejection")
	}
	var out []byte
	if isJSON {
		out, err = resp.MarshalJSON()
		w.Header().Set("Content-Type", "application/json")
	} else {
		out, err = resp.MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(out)
}

// apiHandler is a fake Lumina query API answering span counts from what s recorded.
func (s *sink) apiHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/traces/{trace_id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		raw, err := hex.DecodeString(r.PathValue("trace_id"))
		var id [16]byte
		if err != nil || len(raw) != 16 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":{"code":"invalid_trace_id","message":"bad id"}}`)
			return
		}
		copy(id[:], raw)
		s.mu.Lock()
		n, ok := s.spans[id]
		s.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"not_found","message":"trace not found"}}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"trace_id": r.PathValue("trace_id"), "span_count": n, "spans": []any{}})
	})
	// The list, in pages of `limit` with the offset as the cursor, as the bulk check reads it.
	mux.HandleFunc("GET /api/v1/traces", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		ids := make([]string, 0, len(s.spans))
		counts := map[string]int{}
		for id, n := range s.spans {
			h := hex.EncodeToString(id[:])
			ids = append(ids, h)
			counts[h] = n
		}
		s.mu.Unlock()
		sort.Strings(ids)
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		offset, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		end := min(offset+limit, len(ids))
		page := map[string]any{"next_cursor": ""}
		traces := []map[string]any{}
		for _, id := range ids[offset:end] {
			traces = append(traces, map[string]any{"trace_id": id, "span_count": counts[id]})
		}
		page["traces"] = traces
		if end < len(ids) {
			page["next_cursor"] = strconv.Itoa(end)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	})
	return mux
}

// grpcSink is a fake OTLP/gRPC receiver over a real grpc.Server.
type grpcSink struct {
	ptraceotlp.UnimplementedGRPCServer
	sink *sink
}

func (g *grpcSink) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	rep := g.sink.accept(req.Traces())
	switch rep.status {
	case 0, http.StatusOK:
	case http.StatusServiceUnavailable:
		return ptraceotlp.NewExportResponse(), status.Error(codes.Unavailable, "fake refusal")
	default:
		return ptraceotlp.NewExportResponse(), status.Error(codes.InvalidArgument, "fake bad request")
	}
	resp := ptraceotlp.NewExportResponse()
	resp.PartialSuccess().SetRejectedSpans(rep.rejected)
	return resp, nil
}

func startGRPC(t *testing.T, s *sink) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(srv, &grpcSink{sink: s})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return lis.Addr().String()
}

// every503 refuses every third request with 503 and Retry-After: 0.
func every503(n int) reply {
	if n%3 == 1 {
		return reply{status: http.StatusServiceUnavailable, retryAfter: "0"}
	}
	return reply{}
}

func smallConfig(protocol, endpoint string) Config {
	return Config{
		Protocol:        protocol,
		Endpoint:        endpoint,
		Clients:         3,
		SpansPerRequest: 23, // not a multiple of SpansPerTrace: the last trace is shorter
		SpansPerTrace:   5,
		PromptBytes:     300,
		PoolSize:        4,
		Requests:        30,
		Timeout:         5 * time.Second,
		MaxRetries:      5,
		VerifyTimeout:   2 * time.Second,
	}
}

// ledgerMap is the ledger as trace id → span count, and whether an id repeats.
func ledgerMap(t *testing.T, rep *Report) map[[16]byte]int {
	t.Helper()
	m := map[[16]byte]int{}
	for _, e := range rep.ledger {
		if _, dup := m[e.id]; dup {
			t.Errorf("trace id %s is in the ledger twice", traceIDHex(e.id))
		}
		m[e.id] = int(e.spans)
	}
	return m
}

func assertLedgerIsReceived(t *testing.T, rep *Report, s *sink) {
	t.Helper()
	got, want := ledgerMap(t, rep), s.snapshot()
	if !maps.Equal(got, want) {
		t.Errorf("ledger has %d traces, receiver recorded %d; they differ", len(got), len(want))
	}
	if s.dups > 0 {
		t.Errorf("receiver saw %d trace ids in two accepted requests, want 0 (ids must never be reused)", s.dups)
	}
	var spans int64
	for _, n := range want {
		spans += int64(n)
	}
	if rep.SpansAcked != spans {
		t.Errorf("SpansAcked = %d, receiver recorded %d spans", rep.SpansAcked, spans)
	}
	if rep.TracesAcked != int64(len(want)) {
		t.Errorf("TracesAcked = %d, receiver recorded %d traces", rep.TracesAcked, len(want))
	}
}

func TestRunHTTPLedgerMatchesReceiverAndRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		protocol string
		gzip     bool
	}{
		{"protobuf", ProtocolHTTP, false},
		{"protobuf gzip", ProtocolHTTP, true},
		{"json", ProtocolHTTPJSON, false},
		{"json gzip", ProtocolHTTPJSON, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(every503)
			otlp := httptest.NewServer(s)
			defer otlp.Close()
			api := httptest.NewServer(s.apiHandler())
			defer api.Close()
			cfg := smallConfig(tc.protocol, otlp.URL)
			cfg.Gzip = tc.gzip
			cfg.APIURL = api.URL
			rep, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if rep.RequestsSent != 30 || rep.RequestsAcked != 30 || rep.RequestsFailed != 0 {
				t.Errorf("sent/acked/failed = %d/%d/%d, want 30/30/0 (failures %v, last %q)",
					rep.RequestsSent, rep.RequestsAcked, rep.RequestsFailed, rep.Failures, rep.LastError)
			}
			if rep.Retries == 0 {
				t.Errorf("Retries = 0, want > 0: the receiver refused every third request with 503")
			}
			if rep.Attempts != rep.RequestsSent+rep.Retries {
				t.Errorf("Attempts = %d, want sent %d + retries %d", rep.Attempts, rep.RequestsSent, rep.Retries)
			}
			if got, want := rep.TracesAcked, int64(30*5); got != want {
				t.Errorf("TracesAcked = %d, want %d (23 spans in traces of 5,5,5,5,3)", got, want)
			}
			assertLedgerIsReceived(t, rep, s)
			v := rep.Verify
			if v == nil {
				t.Fatal("Verify = nil, want a verification report")
			}
			if v.Checked != 150 || v.Stored != 150 || v.Missing != 0 || v.WrongCount != 0 || v.Unverified != 0 {
				t.Errorf("verify checked/stored/missing/wrong/unverified = %d/%d/%d/%d/%d, want 150/150/0/0/0 (%v)",
					v.Checked, v.Stored, v.Missing, v.WrongCount, v.Unverified, v.Examples)
			}
			if rep.Lost() {
				t.Error("Lost() = true, want false")
			}
			if rep.Latency.Count != 30 {
				t.Errorf("Latency.Count = %d, want 30", rep.Latency.Count)
			}
		})
	}
}

func TestRunVerifyFindsDroppedTrace(t *testing.T) {
	s := newSink(nil)
	s.dropRequest = 7
	otlp := httptest.NewServer(s)
	defer otlp.Close()
	api := httptest.NewServer(s.apiHandler())
	defer api.Close()
	cfg := smallConfig(ProtocolHTTP, otlp.URL)
	cfg.APIURL = api.URL
	cfg.VerifyTimeout = 500 * time.Millisecond
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(s.dropped) != 1 {
		t.Fatalf("receiver dropped %d traces, want 1", len(s.dropped))
	}
	v := rep.Verify
	if v.Missing != 1 || v.Stored != 149 || v.WrongCount != 0 {
		t.Errorf("missing/stored/wrong = %d/%d/%d, want 1/149/0", v.Missing, v.Stored, v.WrongCount)
	}
	want := traceIDHex(s.dropped[0]) + " missing"
	if len(v.Examples) != 1 || v.Examples[0] != want {
		t.Errorf("Examples = %q, want [%q]", v.Examples, want)
	}
	if !rep.Lost() {
		t.Error("Lost() = false, want true")
	}
	if v.SpansMissing != 5 {
		t.Errorf("SpansMissing = %d, want 5", v.SpansMissing)
	}
	var out bytes.Buffer
	rep.Print(&out)
	if !strings.Contains(out.String(), "LOST") || !strings.Contains(out.String(), want) {
		t.Errorf("Print output does not report the loss:\n%s", out.String())
	}
}

func TestRunVerifyFindsShortTrace(t *testing.T) {
	s := newSink(nil)
	otlp := httptest.NewServer(s)
	defer otlp.Close()
	cfg := smallConfig(ProtocolHTTP, otlp.URL)
	cfg.Requests = 4
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Verify != nil || rep.Lost() {
		t.Fatalf("without an API URL: Verify = %v, Lost() = %v; want nil, false", rep.Verify, rep.Lost())
	}
	// Lose one span of one stored trace, then verify the same ledger.
	victim := rep.ledger[2].id
	s.mu.Lock()
	s.spans[victim]--
	s.mu.Unlock()
	api := httptest.NewServer(s.apiHandler())
	defer api.Close()
	cfg.APIURL, cfg.VerifyTimeout = api.URL, 300*time.Millisecond
	vr, err := newVerifier(cfg.withDefaults(), api.Client()).verify(context.Background(), []clientResult{{ledger: rep.ledger}}, time.Now(), time.Time{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if vr.WrongCount != 1 || vr.SpansMissing != 1 || vr.Stored != len(rep.ledger)-1 {
		t.Errorf("wrong/spans missing/stored = %d/%d/%d, want 1/1/%d", vr.WrongCount, vr.SpansMissing, vr.Stored, len(rep.ledger)-1)
	}
}

func TestRunCountsFailuresAndPartialSuccess(t *testing.T) {
	s := newSink(func(n int) reply {
		switch n {
		case 2:
			return reply{status: http.StatusBadRequest}
		case 4:
			return reply{rejected: 2}
		}
		return reply{}
	})
	otlp := httptest.NewServer(s)
	defer otlp.Close()
	api := httptest.NewServer(s.apiHandler())
	defer api.Close()
	cfg := smallConfig(ProtocolHTTP, otlp.URL)
	cfg.Clients, cfg.Requests, cfg.APIURL = 1, 8, api.URL
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.RequestsAcked != 7 || rep.RequestsFailed != 1 || rep.Retries != 0 {
		t.Errorf("acked/failed/retries = %d/%d/%d, want 7/1/0 (400 is permanent)", rep.RequestsAcked, rep.RequestsFailed, rep.Retries)
	}
	if rep.Failures["http 400"] != 1 {
		t.Errorf("Failures = %v, want http 400: 1", rep.Failures)
	}
	if rep.SpansRejected != 2 || rep.SpansAcked != 7*23-2 {
		t.Errorf("rejected/acked spans = %d/%d, want 2/%d", rep.SpansRejected, rep.SpansAcked, 7*23-2)
	}
	if v := rep.Verify; v.Skipped != 5 || v.Checked != 30 || v.Stored != 30 {
		t.Errorf("verify skipped/checked/stored = %d/%d/%d, want 5/30/30", v.Skipped, v.Checked, v.Stored)
	}
}

func TestRunRetriesExhausted(t *testing.T) {
	s := newSink(func(int) reply { return reply{status: http.StatusServiceUnavailable, retryAfter: "0"} })
	otlp := httptest.NewServer(s)
	defer otlp.Close()
	cfg := smallConfig(ProtocolHTTP, otlp.URL)
	cfg.Clients, cfg.Requests, cfg.MaxRetries = 1, 2, 2
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.RequestsFailed != 2 || rep.Retries != 4 || rep.Attempts != 6 || rep.TracesAcked != 0 {
		t.Errorf("failed/retries/attempts/traces = %d/%d/%d/%d, want 2/4/6/0", rep.RequestsFailed, rep.Retries, rep.Attempts, rep.TracesAcked)
	}
	if rep.Failures["retries exhausted: http 503"] != 2 {
		t.Errorf("Failures = %v, want retries exhausted: http 503: 2", rep.Failures)
	}
}

func TestRunGRPC(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			s := newSink(every503)
			addr := startGRPC(t, s)
			api := httptest.NewServer(s.apiHandler())
			defer api.Close()
			cfg := smallConfig(ProtocolGRPC, addr)
			cfg.Gzip = gz
			cfg.APIURL = api.URL
			rep, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if rep.RequestsAcked != 30 || rep.RequestsFailed != 0 {
				t.Errorf("acked/failed = %d/%d, want 30/0 (failures %v, last %q)", rep.RequestsAcked, rep.RequestsFailed, rep.Failures, rep.LastError)
			}
			if rep.Retries == 0 {
				t.Error("Retries = 0, want > 0: the receiver answered UNAVAILABLE to every third request")
			}
			assertLedgerIsReceived(t, rep, s)
			if rep.Lost() || rep.Verify.Stored != 150 {
				t.Errorf("Lost() = %v, stored %d; want false, 150 (%v)", rep.Lost(), rep.Verify.Stored, rep.Verify.Examples)
			}
		})
	}
}

func TestRunDurationAndRateStop(t *testing.T) {
	s := newSink(nil)
	otlp := httptest.NewServer(s)
	defer otlp.Close()
	cfg := smallConfig(ProtocolHTTP, otlp.URL)
	cfg.Requests = 0
	cfg.Duration = 300 * time.Millisecond
	cfg.Rate = 50
	cfg.Progress = 100 * time.Millisecond
	var out bytes.Buffer
	rep, err := Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.RequestsAcked == 0 {
		t.Error("RequestsAcked = 0, want some requests within the duration")
	}
	assertLedgerIsReceived(t, rep, s)
	if rep.Window <= 0 || rep.SpansPerSec <= 0 {
		t.Errorf("Window = %v, SpansPerSec = %v; want both positive", rep.Window, rep.SpansPerSec)
	}
}

func TestRunCanceled(t *testing.T) {
	s := newSink(nil)
	otlp := httptest.NewServer(s)
	defer otlp.Close()
	cfg := smallConfig(ProtocolHTTP, otlp.URL)
	cfg.Requests, cfg.Duration = 0, time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := Run(ctx, cfg, nil)
	if err == nil || rep == nil {
		t.Fatalf("Run on a canceled context = %v, %v; want a partial report and an error", rep, err)
	}
	assertLedgerIsReceived(t, rep, s)
}

func TestRunRejectsUnboundedAndBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unbounded", Config{Duration: 0, Requests: 0}, "unbounded"},
		{"protocol", Config{Protocol: "udp", Requests: 1}, "protocol"},
		{"grpc url", Config{Protocol: ProtocolGRPC, Endpoint: "http://x:1/v1/traces", Requests: 1}, "host:port"},
		{"http endpoint", Config{Endpoint: "127.0.0.1:4318", Requests: 1}, "http://"},
		{"sample", Config{Requests: 1, VerifySample: 2}, "verify sample"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestRunDoesNotRetryLongWaitsOrFollowRedirects(t *testing.T) {
	elsewhere := newSink(nil)
	other := httptest.NewServer(elsewhere)
	defer other.Close()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		class   string
	}{
		{"quota until midnight", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			http.Error(w, `{"error":{"code":"quota_exceeded"}}`, http.StatusTooManyRequests)
		}, "http 429 (retry-after over 30s)"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/v1/traces", http.StatusTemporaryRedirect)
		}, "http 307"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			cfg := smallConfig(ProtocolHTTP, srv.URL)
			cfg.Clients, cfg.Requests = 1, 2
			rep, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if rep.RequestsFailed != 2 || rep.Retries != 0 || rep.Failures[tc.class] != 2 {
				t.Errorf("failed/retries = %d/%d, failures %v; want 2/0, %q: 2", rep.RequestsFailed, rep.Retries, rep.Failures, tc.class)
			}
		})
	}
	elsewhere.mu.Lock()
	defer elsewhere.mu.Unlock()
	if elsewhere.requests != 0 {
		t.Errorf("the redirect target received %d requests, want 0", elsewhere.requests)
	}
}

// TestBulkVerifyReadsTheList checks the list-based check used for large runs: it finds a
// dropped trace and a short one among more traces than the per-trace threshold.
func TestBulkVerifyReadsTheList(t *testing.T) {
	s := newSink(nil)
	otlp := httptest.NewServer(s)
	defer otlp.Close()
	cfg := smallConfig(ProtocolHTTP, otlp.URL)
	cfg.Requests = 60
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(rep.ledger) <= bulkThreshold {
		t.Fatalf("got %d traces, want more than %d to exercise the bulk path", len(rep.ledger), bulkThreshold)
	}
	dropped, short := rep.ledger[5].id, rep.ledger[7].id
	s.mu.Lock()
	delete(s.spans, dropped)
	s.spans[short]--
	s.mu.Unlock()
	api := httptest.NewServer(s.apiHandler())
	defer api.Close()
	cfg.APIURL, cfg.VerifyTimeout = api.URL, 300*time.Millisecond
	vr, err := newVerifier(cfg.withDefaults(), api.Client()).verify(context.Background(), []clientResult{{ledger: rep.ledger}}, time.Now(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if vr.Missing != 1 || vr.WrongCount != 1 || vr.Stored != len(rep.ledger)-2 {
		t.Errorf("missing/wrong/stored = %d/%d/%d, want 1/1/%d", vr.Missing, vr.WrongCount, vr.Stored, len(rep.ledger)-2)
	}
}
