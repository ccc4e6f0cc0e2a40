package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/sqlite"
)

func TestPatchChannel(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lumina.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	created := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []store.Channel{
		{ID: "ch-1", ProjectID: "default", Type: store.ChannelWebhook, Name: "Ops", URL: "https://hooks.example.com/a/secret-path",
			Secret: "s3cret", Enabled: true, CreatedAt: created},
		{ID: "ch-2", ProjectID: "other", Type: store.ChannelWebhook, Name: "Theirs", URL: "https://x.example/y", Enabled: true, CreatedAt: created},
	} {
		if err := st.PutChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	srv := New(st, func(*http.Request) (string, error) { return "default", nil }, nil, slog.New(slog.DiscardHandler))
	srv.RegisterAlerts(mux, st, nil, func() time.Time { return created.Add(time.Hour) })
	patch := func(id, body string) (int, string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPatch, "/api/v1/channels/"+id, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	stored := func(project, id string) store.Channel {
		t.Helper()
		cs, err := st.Channels(ctx, project)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.ID == id {
				return c
			}
		}
		t.Fatalf("channel %s/%s is not stored", project, id)
		return store.Channel{}
	}

	code, body := patch("ch-1", `{"name": "Ops paging", "min_severity": "critical", "enabled": false}`)
	if code != 200 {
		t.Fatalf("PATCH: got %d %s", code, body)
	}
	var got channelJSON
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "Ops paging" || got.MinSeverity != "critical" || got.Enabled || !got.SecretSet || strings.Contains(body, "s3cret") {
		t.Errorf("PATCH answer: got %s", body)
	}
	c := stored("default", "ch-1")
	if c.Name != "Ops paging" || c.MinSeverity != "critical" || c.Enabled || c.URL != "https://hooks.example.com/a/secret-path" ||
		c.Secret != "s3cret" || c.Type != store.ChannelWebhook || !c.CreatedAt.Equal(created) {
		t.Errorf("stored after PATCH: got %+v, want only the named fields changed", c)
	}
	if code, body := patch("ch-1", `{"secret": ""}`); code != 200 || stored("default", "ch-1").Secret != "" {
		t.Errorf("PATCH clearing the secret: got %d %s, secret %q", code, body, stored("default", "ch-1").Secret)
	}

	for _, tt := range []struct {
		name, id, body string
		code           int
		msg            string
	}{
		{"bad url", "ch-1", `{"url": "ftp://x/y"}`, 400, "url must be an absolute http or https URL"},
		{"pagerduty without a key", "ch-1", `{"type": "pagerduty"}`, 400, "pagerduty channels need a routing_key"},
		{"severity", "ch-1", `{"min_severity": "loud"}`, 400, "min_severity: want info, warning or critical"},
		{"unknown field", "ch-1", `{"colour": "red"}`, 400, "colour"},
		{"another project's channel", "ch-2", `{"name": "mine"}`, 404, "not found"},
		{"no such channel", "ch-9", `{"name": "x"}`, 404, "not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := patch(tt.id, tt.body)
			if code != tt.code || !strings.Contains(body, tt.msg) {
				t.Errorf("got %d %s, want %d with %q", code, body, tt.code, tt.msg)
			}
		})
	}
	if c := stored("default", "ch-1"); c.Name != "Ops paging" || c.Type != store.ChannelWebhook || c.MinSeverity != "critical" {
		t.Errorf("rejected PATCHes changed the channel: %+v", c)
	}
	if c := stored("other", "ch-2"); c.Name != "Theirs" {
		t.Errorf("another project's channel changed: %+v", c)
	}
}

func TestChannelDeliveriesAPI(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lumina.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := st.PutChannel(ctx, store.Channel{ID: "ch-1", ProjectID: "default", Type: store.ChannelWebhook, URL: "https://x.example", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	var ds []store.Delivery
	for i, ch := range []string{"ch-1", "ch-1", "ch-other", "ch-1"} {
		ds = append(ds, store.Delivery{ID: "d" + strconv.Itoa(i), ProjectID: "default", AlertID: "a1", ChannelID: ch, Event: store.EventTrigger,
			Status: store.DeliveryPending, Attempts: i, LastStatus: 500, NextAttempt: at, CreatedAt: at.Add(time.Duration(i) * time.Minute)})
	}
	if err := st.EnqueueDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	New(st, func(*http.Request) (string, error) { return "default", nil }, nil, slog.New(slog.DiscardHandler)).
		RegisterAlerts(mux, st, nil, time.Now)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	code, body := get("/api/v1/channels/ch-1/deliveries?limit=2")
	var got struct{ Deliveries []deliveryJSON }
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("GET: got %d %s (%v)", code, body, err)
	}
	if len(got.Deliveries) != 2 || got.Deliveries[0].ID != "d3" || got.Deliveries[1].ID != "d1" || got.Deliveries[0].Attempts != 3 ||
		got.Deliveries[0].AlertID != "a1" || got.Deliveries[0].LastStatus != 500 {
		t.Errorf("GET ?limit=2: got %+v, want d3 then d1", got.Deliveries)
	}
	for _, tc := range []struct {
		path string
		code int
	}{{"/api/v1/channels/ch-1/deliveries?limit=0", 400}, {"/api/v1/channels/ch-1/deliveries?limit=x", 400}, {"/api/v1/channels/ch-9/deliveries", 404}} {
		if code, body := get(tc.path); code != tc.code {
			t.Errorf("GET %s: got %d %s, want %d", tc.path, code, body, tc.code)
		}
	}
}
