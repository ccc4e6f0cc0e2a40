package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// testChannelDeliveries enqueues project A's items d1 (channel c1, t=0), d2 (c2, 1s), d3 and
// d4 (c1, both at 1h: the id orders them) and project B's b1 (c1), then lists c1's newest
// first, after an attempt on d1 is recorded.
func testChannelDeliveries(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := sampleAlert(projectA, 1, store.RuleCostSpike, store.SeverityWarning, "svc", 0)
	mk := func(p, id, ch string, created time.Duration) store.Delivery {
		return store.Delivery{ID: id, ProjectID: p, AlertID: a.ID, ChannelID: ch, Event: store.EventTrigger,
			Alert: a, Status: store.DeliveryPending, NextAttempt: at(created), CreatedAt: at(created), UpdatedAt: at(created)}
	}
	d1, d2, d3, d4 := mk(projectA, "d1", "c1", 0), mk(projectA, "d2", "c2", time.Second), mk(projectA, "d3", "c1", time.Hour), mk(projectA, "d4", "c1", time.Hour)
	b1 := mk(projectB, "b1", "c1", 2*time.Hour)
	if err := s.EnqueueDeliveries(ctx, []store.Delivery{d1, d2, d3, d4, b1}); err != nil {
		t.Fatalf("EnqueueDeliveries: %v", err)
	}
	d1.Status, d1.Attempts, d1.LastStatus, d1.LastError, d1.UpdatedAt = store.DeliveryFailed, 3, 410, "410 Gone", at(time.Minute)
	if err := s.UpdateDelivery(ctx, d1); err != nil {
		t.Fatalf("UpdateDelivery: %v", err)
	}
	tests := []struct {
		name    string
		project string
		channel string
		limit   int
		want    []store.Delivery
	}{
		{"newest first, the attempt recorded", projectA, "c1", 0, []store.Delivery{d4, d3, d1}},
		{"limit", projectA, "c1", 2, []store.Delivery{d4, d3}},
		{"another channel", projectA, "c2", 10, []store.Delivery{d2}},
		{"another project", projectB, "c1", 10, []store.Delivery{b1}},
		{"no such channel", projectA, "c9", 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ChannelDeliveries(ctx, tt.project, tt.channel, tt.limit)
			if err != nil {
				t.Fatalf("ChannelDeliveries: %v", err)
			}
			if len(tt.want) == 0 {
				if len(got) != 0 {
					t.Errorf("got %d items, want none", len(got))
				}
				return
			}
			diff(t, "ChannelDeliveries", got, tt.want)
		})
	}
}
