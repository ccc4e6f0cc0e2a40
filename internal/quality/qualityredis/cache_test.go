package qualityredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/testenv"
)

func TestCacheRoundTripAndExpiry(t *testing.T) {
	url := testenv.URL(t, testenv.RedisURL)
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "lumina-test-" + hex.EncodeToString(b[:]) + ":"
	c, err := New(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Cleanup(func() {
		_ = c.client.Del(ctx, c.key("k1"), c.key("k2")).Err()
		_ = c.Close()
	})
	if _, ok, err := c.Get(ctx, "k1"); ok || err != nil {
		t.Fatalf("Get(missing): got ok=%v, %v; want a miss", ok, err)
	}
	sim := 0.82
	want := genai.Judgement{Status: genai.JudgeScored, Similarity: &sim, ToneDrift: true, Reason: "friendlier", Model: "claude-haiku-4-5",
		JudgedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	if err := c.Put(ctx, "k1", want, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, "k1")
	if err != nil || !ok || got.Similarity == nil || *got.Similarity != sim || !got.ToneDrift || got.Reason != want.Reason || !got.JudgedAt.Equal(want.JudgedAt) {
		t.Fatalf("Get: got %+v, %v, %v; want %+v", got, ok, err, want)
	}
	if ttl := c.client.TTL(ctx, c.key("k1")).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL %v, want at most an hour", ttl)
	}
	if err := c.Put(ctx, "k2", want, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Redis expires the key itself; wait well past the TTL.
	time.Sleep(200 * time.Millisecond)
	if _, ok, err := c.Get(ctx, "k2"); ok || err != nil {
		t.Errorf("Get(expired): got ok=%v, %v; want a miss", ok, err)
	}
}

// TestStalledRedisIsAQuickMiss: a Redis that stops answering without closing the connection
// costs a judge job at most the call budget: Get fails (the caller treats it as a miss) and
// Put fails, instead of waiting for the client's own timeouts.
func TestStalledRedisIsAQuickMiss(t *testing.T) {
	proxy, url := testenv.ProxyURL(t, testenv.URL(t, testenv.RedisURL))
	c, err := New(url, testenv.Name("lumina-test-")+":")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	if _, ok, err := c.Get(ctx, "k"); ok || err != nil {
		t.Fatalf("Get through the proxy: got ok=%v, %v; want a miss", ok, err)
	}
	proxy.Stall()
	t0 := time.Now()
	_, ok, getErr := c.Get(ctx, "k")
	putErr := c.Put(ctx, "k", genai.Judgement{Status: genai.JudgeScored}, time.Minute)
	if took := time.Since(t0); took > 4*callBudget {
		t.Errorf("a Get and a Put on a stalled Redis took %v; the budget is %v each", took, callBudget)
	}
	if ok || getErr == nil || putErr == nil {
		t.Errorf("stalled Redis: Get ok=%v err=%v, Put err=%v; want both to fail", ok, getErr, putErr)
	}
}
