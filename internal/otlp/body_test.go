package otlp

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// TestBodyRead covers readBody's paths: a body of known length (read into one buffer of
// that size), the same body without a length, gzip, and bodies over the limit either way.
// An accepted protobuf body is published byte for byte as received.
func TestBodyRead(t *testing.T) {
	td, _, _ := twoTraces()
	raw, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	cases := []struct {
		name     string
		body     []byte
		length   int64 // -1: unknown (chunked)
		encoding string
		limit    int64
		want     int
	}{
		{"known length", raw, int64(len(raw)), "", 1 << 20, http.StatusOK},
		{"unknown length", raw, -1, "", 1 << 20, http.StatusOK},
		{"gzip", gz.Bytes(), int64(gz.Len()), "gzip", 1 << 20, http.StatusOK},
		{"exactly the limit", raw, int64(len(raw)), "", int64(len(raw)), http.StatusOK},
		{"over the limit, known length", raw, int64(len(raw)), "", int64(len(raw)) - 1, http.StatusRequestEntityTooLarge},
		{"over the limit, unknown length", raw, -1, "", int64(len(raw)) - 1, http.StatusRequestEntityTooLarge},
		{"gzip over the limit once decompressed", gz.Bytes(), int64(gz.Len()), "gzip", int64(len(raw)) - 1, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, rec := newTestReceiver(nil)
			r.cfg.MaxBodyBytes = tc.limit
			mux := http.NewServeMux()
			r.Register(mux)
			req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(tc.body))
			req.ContentLength = tc.length
			if tc.length < 0 {
				req.Header.Del("Content-Length")
			} else {
				req.Header.Set("Content-Length", strconv.FormatInt(tc.length, 10))
			}
			req.Header.Set("Content-Type", contentProto)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Fatalf("got %d %q, want %d", w.Code, w.Body.Bytes(), tc.want)
			}
			if tc.want != http.StatusOK {
				if len(rec.bodies) != 0 {
					t.Errorf("published %d bodies, want none", len(rec.bodies))
				}
				return
			}
			if len(rec.bodies) != 1 || !bytes.Equal(rec.bodies[0], raw) {
				t.Errorf("published %d bodies; want the request's %d bytes unchanged", len(rec.bodies), len(raw))
			}
		})
	}
}
