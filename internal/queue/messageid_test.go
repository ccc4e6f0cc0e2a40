package queue

import (
	"bytes"
	"testing"
)

// The dedup id must depend on everything a request carries and on nothing else.
func TestMessageID(t *testing.T) {
	body := bytes.Repeat([]byte("span bytes "), 100_000)
	id := MessageID(SignalTraces, "p1", body)
	if len(id) != 64 {
		t.Fatalf("id %q: want 64 hex digits", id)
	}
	if again := MessageID(SignalTraces, "p1", bytes.Clone(body)); again != id {
		t.Errorf("same request, different ids: %s vs %s", id, again)
	}
	flipped := bytes.Clone(body)
	flipped[len(flipped)/2] ^= 1
	others := map[string]string{
		"one body bit":   MessageID(SignalTraces, "p1", flipped),
		"last byte gone": MessageID(SignalTraces, "p1", body[:len(body)-1]),
		"project":        MessageID(SignalTraces, "p2", body),
		"signal":         MessageID(SignalLogs, "p1", body),
		// the separator keeps the project/body boundary unambiguous
		"boundary": MessageID(SignalTraces, "p1s", body[1:]),
	}
	for what, other := range others {
		if other == id {
			t.Errorf("changing the %s kept the id %s", what, id)
		}
	}
	// Pinned: ingest processes of one deployment must agree on ids, so a change of the
	// hash is a deliberate, noted change (it only weakens dedup across a rolling upgrade).
	if got, want := MessageID(SignalTraces, "default", []byte("hello")), "ee2cdd3304ec5aba4fa6b70e4c04923d35646fb98e1ec292637f3c4758e751e8"; got != want {
		t.Errorf("MessageID(traces, default, hello) = %s, want %s", got, want)
	}
}
