package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/use-lumina/lumina/internal/store"
)

// channelForm is the new-channel form as typed. The secret and routing key are never
// rendered back: after an error they must be typed again.
type channelForm struct {
	Type, Name, URL, MinSeverity string
	Enabled                      bool
}

// validateChannel checks a new channel with Config.ValidateChannel (alert.ValidateChannel,
// as POST /api/v1/channels does), or only its type and name without one.
func (s *Server) validateChannel(c *store.Channel) error {
	if s.cfg.ValidateChannel != nil {
		if err := s.cfg.ValidateChannel(c); err != nil {
			return badRequestf("%v", err)
		}
		return nil
	}
	if !slices.Contains([]string{store.ChannelWebhook, store.ChannelSlack, store.ChannelPagerDuty, store.ChannelDiscord}, c.Type) {
		return badRequestf("type %q: want webhook, slack, pagerduty or discord", c.Type)
	}
	if c.Name == "" {
		c.Name = c.Type
	}
	return nil
}

// createChannel stores a new channel from the form, or re-renders the page with what was
// wrong (400).
func (s *Server) createChannel(ctx context.Context, r *request) (string, *view, error) {
	p := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := channelForm{Type: p("type"), Name: p("name"), URL: p("url"), MinSeverity: p("min_severity"), Enabled: r.PostFormValue("enabled") == "on"}
	c := store.Channel{ID: "ch-" + uuid.Must(uuid.NewV7()).String(), ProjectID: r.Project, Type: f.Type, Name: f.Name,
		URL: f.URL, Secret: p("secret"), RoutingKey: p("routing_key"), MinSeverity: f.MinSeverity, Enabled: f.Enabled, CreatedAt: r.Now}
	err := s.validateChannel(&c)
	if msg, ok := isBadRequest(err); ok {
		v, verr := s.alertRulesPage(ctx, r, nil, "", f, msg)
		if verr != nil {
			return "", nil, verr
		}
		return "", &v, nil
	}
	if err := s.store.PutChannel(ctx, c); err != nil {
		return "", nil, err
	}
	return "/alerts/rules?channel_created=" + url.QueryEscape(c.Name) + "#channel-" + url.PathEscape(c.ID), nil, nil
}

// deleteChannel removes a channel; the outbox gives up the deliveries still queued for it
// ("channel deleted or disabled").
func (s *Server) deleteChannel(ctx context.Context, r *request) (string, *view, error) {
	ch, err := s.channel(ctx, r)
	if err != nil {
		return "", nil, err
	}
	if err := s.store.DeleteChannel(ctx, r.Project, ch.ID); err != nil {
		return "", nil, err
	}
	return "/alerts/rules?channel_deleted=" + url.QueryEscape(ch.Name) + "#channels", nil, nil
}

// channel is the project's channel named by the request's {id}, or store.ErrNotFound.
func (s *Server) channel(ctx context.Context, r *request) (store.Channel, error) {
	chans, err := s.store.Channels(ctx, r.Project)
	if err != nil {
		return store.Channel{}, err
	}
	i := slices.IndexFunc(chans, func(c store.Channel) bool { return c.ID == r.PathValue("id") })
	if i < 0 {
		return store.Channel{}, fmt.Errorf("channel %q: %w", r.PathValue("id"), store.ErrNotFound)
	}
	return chans[i], nil
}
