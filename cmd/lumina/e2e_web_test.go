package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDashboardWiring checks what cmd/lumina hands the dashboard: Replay Studio works when
// the replay role runs in the same process and says plainly that it does not otherwise.
func TestDashboardWiring(t *testing.T) {
	tests := []struct {
		name   string
		flags  []string
		status int
		want   string
	}{
		{"with replay", []string{"--web-addr", "127.0.0.1:0", "--replay-addr", "127.0.0.1:0"}, http.StatusOK, "New set from a filter"},
		{"without replay", []string{"--web-addr", "127.0.0.1:0"}, http.StatusServiceUnavailable, "Replay role not running in this process"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startTestApp(t, tt.flags...)
			res, err := http.Get(a.url("web", "/replay"))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
				t.Errorf("GET /replay: got %d, want %d with %q", res.StatusCode, tt.status, tt.want)
			}
			res, err = http.Post(a.url("api", "/api/v1/channels"), "application/json",
				strings.NewReader(`{"type":"webhook","name":"e2e hook","url":"http://127.0.0.1:1/hook"}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("create a channel: got %d", res.StatusCode)
			}
			res, err = http.Get(a.url("web", "/alerts/rules"))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ = io.ReadAll(res.Body)
			// The channel tester is wired: the channel's send-test button is live, not disabled.
			if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "e2e hook") || strings.Contains(string(b), "Channel tests are not available") {
				t.Errorf("GET /alerts/rules: got %d, or channel tests are not wired", res.StatusCode)
			}
		})
	}
}
