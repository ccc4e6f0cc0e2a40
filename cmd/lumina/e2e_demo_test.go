package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `lumina demo` fast against a running Lumina: its traffic must fill three
// services with sessions, and its cost spike and quality drop must raise those alerts.
func TestDemo(t *testing.T) {
	a := startTestApp(t)
	var out, errOut bytes.Buffer
	args := []string{"--endpoint", a.url("otlp-http", ""), "--rate", "60", "--spike-at", "4s", "--drop-at", "6s", "--duration", "16s"}
	if err := run(context.Background(), append([]string{"demo"}, args...), func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("lumina demo: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "cost spike started") || !strings.Contains(out.String(), "quality drop started") || !strings.Contains(out.String(), "(0 failed)") {
		t.Fatalf("demo output:\n%s\n%s", out.String(), errOut.String())
	}

	var list struct {
		Traces []struct {
			ServiceName  string `json:"service_name"`
			LLMCallCount int    `json:"llm_call_count"`
		} `json:"traces"`
	}
	getJSON(t, a.url("api", "/api/v1/traces?limit=1000"), &list)
	services := map[string]int{}
	for _, tr := range list.Traces {
		services[tr.ServiceName] += tr.LLMCallCount
	}
	for _, s := range []string{"support-bot", "search-api", "summarizer"} {
		if services[s] == 0 {
			t.Errorf("no LLM call of %s in the trace list: %v", s, services)
		}
	}

	want := map[string]string{"support-bot": "cost", "summarizer": "quality_drop"}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var alerts struct {
			Alerts []struct {
				Type    string `json:"type"`
				Service string `json:"service"`
			} `json:"alerts"`
		}
		getJSON(t, a.url("api", "/api/v1/alerts?limit=100"), &alerts)
		got := map[string]bool{}
		for _, al := range alerts.Alerts {
			if strings.Contains(al.Type, want[al.Service]) && want[al.Service] != "" {
				got[al.Service] = true
			}
		}
		if got["support-bot"] && got["summarizer"] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts after the demo: %+v; want a cost alert on support-bot and a quality_drop on summarizer", alerts.Alerts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
