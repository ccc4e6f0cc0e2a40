package main

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSplitArgs(t *testing.T) {
	own := map[string]bool{"since": false, "output": false, "o": false, "keep": true}
	tests := []struct {
		args       []string
		mine, rest []string
	}{
		{[]string{"--since", "24h", "--data-dir", "d"}, []string{"--since", "24h"}, []string{"--data-dir", "d"}},
		{[]string{"--data-dir=d", "-output=f", "--log-level", "warn"}, []string{"-output=f"}, []string{"--data-dir=d", "--log-level", "warn"}},
		{[]string{"-o", "f", "--keep", "--database-url", "postgres://x"}, []string{"-o", "f", "--keep"}, []string{"--database-url", "postgres://x"}},
		{[]string{"--since"}, []string{"--since"}, nil},
	}
	for _, tt := range tests {
		mine, rest := splitArgs(tt.args, own)
		if !reflect.DeepEqual(mine, tt.mine) || !reflect.DeepEqual(rest, tt.rest) {
			t.Errorf("splitArgs(%q): got %q / %q, want %q / %q", tt.args, mine, rest, tt.mine, tt.rest)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"2026-03-01T08:30:00+02:00", time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC), false},
		{"2026-03-01T08:30:00.5Z", time.Date(2026, 3, 1, 8, 30, 0, 5e8, time.UTC), false},
		{"2026-03-01", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"7d", now.Add(-7 * 24 * time.Hour), false},
		{"-1h", time.Time{}, true},
		{"last week", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseWhen(tt.in, now)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("parseWhen(%q): got %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestEndpointBase(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{"http://localhost:4318", "http://localhost:4318", ""},
		{"http://localhost:4318/", "http://localhost:4318", ""},
		{"https://otlp.example.com/v1/traces", "https://otlp.example.com", ""},
		{"https://otlp.example.com/otlp/v1/logs?x=1", "https://otlp.example.com/otlp", ""},
		{"localhost:4318", "", "want an http:// or https:// URL"},
		{"http://", "", "want an http:// or https:// URL"},
		{"", "", "--endpoint is required"},
	}
	for _, tt := range tests {
		got, err := endpointBase(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("endpointBase(%q): got %q, %v; want an error with %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("endpointBase(%q): got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
