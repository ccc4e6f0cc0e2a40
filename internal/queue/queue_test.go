package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/use-lumina/lumina/internal/testenv"
)

// data is a delivery's body as a string.
func data(t *testing.T, d *Delivery) string {
	t.Helper()
	b, err := d.Data()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func openEmbedded(t *testing.T, dir string) *Queue {
	t.Helper()
	q, err := Open(context.Background(), Config{DataDir: dir, AckWait: time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func openExternal(t *testing.T) *Queue {
	t.Helper()
	url := testenv.URL(t, testenv.NATSURL)
	name := strings.ToUpper(testenv.Name("LT"))
	q, err := Open(context.Background(), Config{URL: url, Stream: name, Subjects: strings.ToLower(name), Consumer: name, AckWait: time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Close()
		if err := DeleteStreams(context.Background(), url, name); err != nil {
			t.Errorf("clean up streams: %v", err)
		}
	})
	return q
}

func TestQueue(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) *Queue{
		"embedded": func(t *testing.T) *Queue {
			q := openEmbedded(t, t.TempDir())
			t.Cleanup(q.Close)
			return q
		},
		"external": openExternal,
	} {
		t.Run(name, func(t *testing.T) {
			t.Run("publish consume ack dedup", func(t *testing.T) { testPublishConsume(t, open(t)) })
			t.Run("nak redelivers", func(t *testing.T) { testNak(t, open(t)) })
			t.Run("dead letter", func(t *testing.T) { testDeadLetter(t, open(t)) })
			t.Run("compressed bodies", func(t *testing.T) { testEncoding(t, open(t)) })
			t.Run("a batch leaves no delivery behind", func(t *testing.T) { testFetchBytes(t, open(t)) })
			t.Run("bad subject", func(t *testing.T) {
				q := open(t)
				if err := q.Publish(context.Background(), SignalTraces, "a.b", []byte("x")); err == nil {
					t.Fatal("got nil error for a project id with a dot")
				}
			})
		})
	}
}

func testPublishConsume(t *testing.T, q *Queue) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bodies := []string{"one", "two", "three"}
	for _, b := range bodies {
		if err := q.Publish(ctx, SignalTraces, "default", []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	// The same body again is a duplicate within the window.
	if err := q.Publish(ctx, SignalTraces, "default", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := q.Publish(ctx, SignalLogs, "p2", []byte("log")); err != nil {
		t.Fatal(err)
	}
	c, err := q.Consumer(ctx, 400)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	var got []string
	for len(got) < 4 {
		ds, err := c.Next(ctx, 10, 1<<20, 50*time.Millisecond, nil)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		for _, d := range ds {
			got = append(got, d.Signal+"/"+d.ProjectID+"/"+data(t, d))
			if err := d.Ack(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := "traces/default/one traces/default/two traces/default/three logs/p2/log"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
	st, err := q.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 0 {
		t.Fatalf("got %d messages left after acks, want 0 (work queue)", st.Messages)
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if ds, err := c.Next(short, 10, 1<<20, 0, nil); err == nil {
		t.Fatalf("got %d more deliveries, want none (the duplicate must be dropped)", len(ds))
	}
}

func testNak(t *testing.T, q *Queue) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := q.Publish(ctx, SignalTraces, "default", []byte("retry me")); err != nil {
		t.Fatal(err)
	}
	c := consumer(t, ctx, q)
	defer c.Stop()
	ds := next(t, ctx, c, 1, 0)
	if err := ds[0].Nak(10 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ds = next(t, ctx, c, 1, 0)
	if got := data(t, ds[0]); ds[0].NumDelivered != 2 || got != "retry me" {
		t.Fatalf("got delivery %d of %q, want delivery 2 of %q", ds[0].NumDelivered, got, "retry me")
	}
	if err := ds[0].Ack(ctx); err != nil {
		t.Fatal(err)
	}
}

func testDeadLetter(t *testing.T, q *Queue) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := q.Publish(ctx, SignalTraces, "default", []byte("poison")); err != nil {
		t.Fatal(err)
	}
	c := consumer(t, ctx, q)
	defer c.Stop()
	ds := next(t, ctx, c, 1, 0)
	if err := c.DeadLetter(ctx, ds[0], "cannot decode"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := q.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.DeadLetters == 1 && st.Messages == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d dead letters and %d messages, want 1 and 0", st.DeadLetters, st.Messages)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEmbeddedSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := openEmbedded(t, dir)
	if err := q.Publish(ctx, SignalTraces, "default", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q = openEmbedded(t, dir)
	defer q.Close()
	c := consumer(t, ctx, q)
	defer c.Stop()
	ds := next(t, ctx, c, 10, 10*time.Millisecond)
	if len(ds) != 1 || data(t, ds[0]) != "kept" {
		t.Fatalf("got %d deliveries, want the one published before the restart", len(ds))
	}
}

func TestBackPressure(t *testing.T) {
	ctx := context.Background()
	q, err := Open(ctx, Config{DataDir: t.TempDir(), MaxBytes: 64 << 10}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	body := make([]byte, 16<<10) // random, so it is stored as it is, uncompressed
	_, _ = rand.Read(body)
	var full error
	for i := 0; i < 10 && full == nil; i++ {
		body[0] = byte(i)
		full = q.Publish(ctx, SignalTraces, "default", body)
	}
	if !errors.Is(full, ErrUnavailable) || !errors.Is(full, ErrFull) {
		t.Fatalf("got %v once the stream is full, want ErrUnavailable and ErrFull", full)
	}
	// The OTLP receiver, which does not import this package, recognizes it so.
	var f interface{ QueueFull() bool }
	if !errors.As(full, &f) || !f.QueueFull() {
		t.Errorf("%v has no QueueFull method saying true", full)
	}
}

// testEncoding checks that bodies are stored compressed when that pays and delivered as
// published: a compressible body, an incompressible one and a small one; a message of an
// older version (no encoding header) is delivered as stored, a corrupt compressed one is
// an error, and a dead letter keeps the encoding.
func testEncoding(t *testing.T, q *Queue) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	text := bytes.Repeat([]byte("the model answered in plain words; "), 2000)
	random := make([]byte, 64<<10)
	_, _ = rand.Read(random)
	old := bytes.Repeat([]byte("published before compression; "), 500)
	bodies := [][]byte{text, random, []byte("small")}
	for _, b := range bodies {
		if err := q.Publish(ctx, SignalTraces, "default", b); err != nil {
			t.Fatal(err)
		}
	}
	body, stored := q.Published()
	if want := uint64(len(text) + len(random) + len("small")); body != want || stored >= body-uint64(len(text))/2 {
		t.Errorf("Published: %d bytes of body, %d stored; want %d, with the text stored in under half its size", body, stored, want)
	}
	raw := func(data []byte, h nats.Header) {
		m := nats.NewMsg(q.cfg.Subjects + ".spans.default")
		m.Data = data
		for k, v := range h {
			m.Header[k] = v
		}
		if _, err := q.js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	raw(old, nil)
	raw([]byte("not s2 at all"), nats.Header{headerEncoding: {encodingS2}, headerSize: {"13"}})
	for seq, want := range []struct {
		stored  string // the encoding header as stored
		smaller bool
	}{{encodingS2, true}, {"", false}, {"", false}, {"", false}} {
		m, err := q.stream.GetMsg(ctx, uint64(seq+1))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Header.Get(headerEncoding); got != want.stored {
			t.Errorf("message %d stored with encoding %q, want %q", seq+1, got, want.stored)
		}
		if want.smaller && len(m.Data) > len(text)/4 {
			t.Errorf("message %d stored in %d bytes, want under a quarter of %d", seq+1, len(m.Data), len(text))
		}
	}
	c := consumer(t, ctx, q)
	defer c.Stop()
	// In batches: after the text, the fetch's byte limit expects the next messages to
	// compress as well as it did, and the random body ends a batch.
	var ds []*Delivery
	for range 5 {
		if ds = append(ds, next(t, ctx, c, 5-len(ds), 100*time.Millisecond)...); len(ds) == 5 {
			break
		}
	}
	if len(ds) != 5 {
		t.Fatalf("got %d deliveries, want 5", len(ds))
	}
	for i, want := range append(bodies, old) {
		if got := data(t, ds[i]); got != string(want) || ds[i].Size() != len(want) {
			t.Errorf("delivery %d: got %d bytes (Size %d), want the %d published", i, len(got), ds[i].Size(), len(want))
		}
	}
	if _, err := ds[4].Data(); err == nil {
		t.Error("a corrupt compressed body: got no error")
	}
	if err := c.DeadLetter(ctx, ds[0], "test"); err != nil {
		t.Fatal(err)
	}
	dead, err := q.js.Stream(ctx, q.deadStream())
	if err != nil {
		t.Fatal(err)
	}
	m, err := dead.GetLastMsgForSubject(ctx, q.cfg.Subjects+".dead.>")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decode(m.Header, m.Data); err != nil || !bytes.Equal(got, text) {
		t.Errorf("the dead letter: got %d bytes (%v), want the %d published", len(got), err, len(text))
	}
}

// TestDeleteStreams: the streams and what they hold are gone; a queue opened afterwards
// starts empty.
func TestDeleteStreams(t *testing.T) {
	url := testenv.URL(t, testenv.NATSURL)
	name := strings.ToUpper(testenv.Name("LT"))
	cfg := Config{URL: url, Stream: name, Subjects: strings.ToLower(name), Consumer: name}
	ctx := context.Background()
	q, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Publish(ctx, SignalTraces, "default", []byte("gone")); err != nil {
		t.Fatal(err)
	}
	q.Close()
	if err := DeleteStreams(ctx, url, name); err != nil {
		t.Fatal(err)
	}
	q, err = Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Close()
		_ = DeleteStreams(ctx, url, name)
	})
	if st, err := q.Stats(ctx); err != nil || st.Messages != 0 {
		t.Fatalf("after DeleteStreams: %+v, %v; want an empty stream", st, err)
	}
}

// testFetchBytes: a fetch's byte limit counts stored bytes and a batch's counts body bytes.
// Asked for the batch's body bytes, the fetch of compressed messages delivered all 40 the
// consumer may have pending where the batch had room for 5, and the other 35 waited
// unread, their ack wait running, until the next batch.
func testFetchBytes(t *testing.T, q *Queue) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	body := bytes.Repeat([]byte("a compressible request body; "), 700) // 20 KB
	for i := range 40 {
		if err := q.Publish(ctx, SignalTraces, "default", fmt.Appendf(body[:len(body):len(body)], "%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	c := consumer(t, ctx, q)
	defer c.Stop()
	ds, err := c.Next(ctx, 40, 5*(len(body)+2), 200*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) < 5 {
		t.Errorf("got %d deliveries, want at least the 5 that fit", len(ds))
	}
	st, err := q.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.AckPending != len(ds) {
		t.Errorf("%d messages delivered and not acknowledged, %d of them in the batch: the rest wait unread", st.AckPending, len(ds))
	}
}

// consumer attaches a consumer with up to 40 messages in flight; the caller stops it.
func consumer(t *testing.T, ctx context.Context, q *Queue) *Consumer {
	t.Helper()
	c, err := q.Consumer(ctx, 40)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// next fetches a batch of up to max messages (1 MiB), lingering for linger.
func next(t *testing.T, ctx context.Context, c *Consumer, max int, linger time.Duration) []*Delivery {
	t.Helper()
	ds, err := c.Next(ctx, max, 1<<20, linger, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}
