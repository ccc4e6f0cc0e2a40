package otlp

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// recorder is a Publisher that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recorder) Publish(_ context.Context, _, _ string, body []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, body)
	return nil
}

// setQuota admits the traces in admitted and refuses every other one.
func setQuota(admitted ...string) AdmitFunc {
	return func(_ context.Context, _ string, ids []string) (Admission, error) {
		adm := Admission{Limit: 2, Count: 2, Reset: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)}
		for _, id := range ids {
			if !slices.Contains(admitted, id) {
				adm.Refused = append(adm.Refused, id)
			}
		}
		return adm, nil
	}
}

// twoTraces is a request with trace 1 (two spans) and trace 2 (one span).
func twoTraces() (ptrace.Traces, string, string) {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	t1, t2 := pcommon.TraceID{1}, pcommon.TraceID{2}
	for i, tid := range []pcommon.TraceID{t1, t1, t2} {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(pcommon.SpanID{byte(i + 1)})
	}
	return td, hex.EncodeToString(t1[:]), hex.EncodeToString(t2[:])
}

func newTestReceiver(admit AdmitFunc) (*Receiver, *recorder) {
	rec := &recorder{}
	now := func() time.Time { return time.Date(2026, 12, 3, 23, 0, 0, 0, time.UTC) }
	return New(Config{Admit: admit, Now: now}, rec, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil))), rec
}

func postTraces(t *testing.T, r *Receiver, td ptrace.Traces, isJSON bool) *http.Response {
	t.Helper()
	er := ptraceotlp.NewExportRequestFromTraces(td)
	body, ct := []byte(nil), contentProto
	var err error
	if isJSON {
		body, err = er.MarshalJSON()
		ct = contentJSON
	} else {
		body, err = er.MarshalProto()
	}
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	r.Register(mux)
	req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	return w.Result()
}

// TestPartialAdmission checks that a request mixing an admitted and a refused trace is
// accepted with the admitted trace's spans only, and the rest in partial_success. The
// quota is asked once, with both trace ids, though the request goes from the scan of its
// body to pdata's decoding once the quota refused a trace.
func TestPartialAdmission(t *testing.T) {
	td, t1, t2 := twoTraces()
	var asked [][]string
	quota := setQuota(t1)
	r, rec := newTestReceiver(func(ctx context.Context, project string, ids []string) (Admission, error) {
		asked = append(asked, ids)
		return quota(ctx, project, ids)
	})
	resp := postTraces(t, r, td, false)
	if len(asked) != 1 || !slices.Equal(asked[0], []string{t1, t2}) {
		t.Errorf("the quota was asked %v, want once for [%s %s]", asked, t1, t2)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("X-RateLimit-Remaining"); got != "0" {
		t.Errorf("X-RateLimit-Remaining: got %q, want 0", got)
	}
	body, _ := io.ReadAll(resp.Body)
	out := ptraceotlp.NewExportResponse()
	if err := out.UnmarshalProto(body); err != nil {
		t.Fatal(err)
	}
	if got := out.PartialSuccess().RejectedSpans(); got != 1 {
		t.Errorf("rejected_spans: got %d, want 1 (trace 2's span)", got)
	}
	if len(rec.bodies) != 1 {
		t.Fatalf("published %d bodies, want 1", len(rec.bodies))
	}
	pub := ptraceotlp.NewExportRequest()
	if err := pub.UnmarshalProto(rec.bodies[0]); err != nil {
		t.Fatal(err)
	}
	if got := pub.Traces().SpanCount(); got != 2 {
		t.Errorf("published spans: got %d, want trace 1's 2", got)
	}
}

// TestAllRefused checks the 429 answer in both encodings and the gRPC status.
func TestAllRefused(t *testing.T) {
	td, _, _ := twoTraces()
	r, rec := newTestReceiver(setQuota())
	resp := postTraces(t, r, td, false)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3600" {
		t.Fatalf("protobuf: got %d, Retry-After %q, want 429 and 3600", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	body, _ := io.ReadAll(resp.Body)
	var st statuspb.Status
	if err := proto.Unmarshal(body, &st); err != nil {
		t.Fatalf("protobuf 429 body is not a google.rpc.Status: %v", err)
	}
	var info errdetails.ErrorInfo
	if st.Code != int32(codes.ResourceExhausted) || len(st.Details) != 2 || st.Details[0].UnmarshalTo(&info) != nil ||
		info.Metadata["limit"] != "2" || info.Metadata["reset"] != "2026-12-04T00:00:00Z" {
		t.Errorf("protobuf 429 status: got %v", &st)
	}
	resp = postTraces(t, r, td, true)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || !bytes.Contains(body, []byte(`"reset":"2026-12-04T00:00:00Z"`)) {
		t.Errorf("json: got %d %s", resp.StatusCode, body)
	}
	if len(rec.bodies) != 0 {
		t.Errorf("published %d bodies, want none", len(rec.bodies))
	}
	_, err := (&traceService{r: r}).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(td))
	if s, _ := status.FromError(err); s.Code() != codes.ResourceExhausted {
		t.Errorf("gRPC: got %v, want RESOURCE_EXHAUSTED", err)
	}
}
