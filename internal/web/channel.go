package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// maxChannelDeliveries bounds the outbox items a channel page lists.
const maxChannelDeliveries = 50

// channelEditForm is the edit form of a stored channel. URL, secret and routing key are
// write-only: the form shows whether they are set, never their values, and leaving a
// field empty keeps the stored value.
type channelEditForm struct {
	Type, Name, MinSeverity string
	Enabled                 bool
}

// channelData is a channel's page: what it is, its edit form, and its recent deliveries.
type channelData struct {
	Channel      channelRow
	Form         channelEditForm
	Error        string
	Flash        string
	ChannelTypes []string
	Severities   []string
	Deliveries   []store.Delivery
	Limit        int
}

// channelPage shows one channel with its edit form and its latest delivery attempts.
func (s *Server) channelPage(ctx context.Context, r *request) (view, error) {
	ch, err := s.channel(ctx, r)
	if err != nil {
		return view{}, err
	}
	f := channelEditForm{Type: ch.Type, Name: ch.Name, MinSeverity: ch.MinSeverity, Enabled: ch.Enabled}
	flash := ""
	if r.URL.Query().Get("saved") != "" {
		flash = "Saved. The worker's engine uses the channel as it is now at its next tick."
	}
	return s.channelView(ctx, r, ch, f, "", flash)
}

func (s *Server) channelView(ctx context.Context, r *request, ch store.Channel, f channelEditForm, msg, flash string) (view, error) {
	ds, err := s.store.ChannelDeliveries(ctx, r.Project, ch.ID, maxChannelDeliveries)
	if err != nil {
		return view{}, err
	}
	d := channelData{
		Channel: channelRow{ID: ch.ID, Type: ch.Type, Name: ch.Name, URL: redactURL(ch.URL), MinSeverity: ch.MinSeverity,
			Enabled: ch.Enabled, SecretSet: ch.Secret != "", KeySet: ch.RoutingKey != ""},
		Form: f, Error: msg, Flash: flash, Deliveries: ds, Limit: maxChannelDeliveries,
		ChannelTypes: []string{store.ChannelWebhook, store.ChannelSlack, store.ChannelPagerDuty, store.ChannelDiscord},
		Severities:   []string{store.SeverityInfo, store.SeverityWarning, store.SeverityCritical},
	}
	v := view{Page: "alert_channel", Title: "Channel " + ch.Name, Nav: "alerts", Data: d}
	if msg != "" {
		v.Status = http.StatusBadRequest
	}
	return v, nil
}

// updateChannel applies the edit form to the stored channel, validated as
// PATCH /api/v1/channels/{id} validates it, or re-renders the page with what was wrong
// (400). An empty URL, secret or routing key keeps the stored one; clear_secret and
// clear_routing_key remove them.
func (s *Server) updateChannel(ctx context.Context, r *request) (string, *view, error) {
	ch, err := s.channel(ctx, r)
	if err != nil {
		return "", nil, err
	}
	p := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := channelEditForm{Type: p("type"), Name: p("name"), MinSeverity: p("min_severity"), Enabled: r.PostFormValue("enabled") == "on"}
	stored := ch
	ch.Type, ch.Name, ch.MinSeverity, ch.Enabled = f.Type, f.Name, f.MinSeverity, f.Enabled
	for _, w := range []struct {
		dst           *string
		field, remove string
	}{{&ch.URL, "url", ""}, {&ch.Secret, "secret", "clear_secret"}, {&ch.RoutingKey, "routing_key", "clear_routing_key"}} {
		if v := p(w.field); v != "" {
			*w.dst = v
		} else if w.remove != "" && r.PostFormValue(w.remove) == "on" {
			*w.dst = ""
		}
	}
	err = s.validateChannel(&ch)
	if msg, ok := isBadRequest(err); ok {
		v, verr := s.channelView(ctx, r, stored, f, msg, "")
		if verr != nil {
			return "", nil, verr
		}
		return "", &v, nil
	}
	if err := s.store.PutChannel(ctx, ch); err != nil {
		return "", nil, err
	}
	return "/alerts/channels/" + url.PathEscape(ch.ID) + "?saved=1", nil, nil
}
