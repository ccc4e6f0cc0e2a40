package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/use-lumina/lumina/internal/alert"
	"github.com/use-lumina/lumina/internal/store"
)

// channelPatch is a channel body: every field optional, so PATCH changes only what it
// names. An absent secret or routing key keeps the stored one; an empty one clears it.
type channelPatch struct {
	Type        *string `json:"type"`
	Name        *string `json:"name"`
	URL         *string `json:"url"`
	Secret      *string `json:"secret"`
	RoutingKey  *string `json:"routing_key"`
	MinSeverity *string `json:"min_severity"`
	Enabled     *bool   `json:"enabled"`
}

func (p *channelPatch) apply(c *store.Channel) {
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&c.Type, p.Type}, {&c.Name, p.Name}, {&c.URL, p.URL}, {&c.Secret, p.Secret}, {&c.RoutingKey, p.RoutingKey}, {&c.MinSeverity, p.MinSeverity}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if p.Enabled != nil {
		c.Enabled = *p.Enabled
	}
}

// patchChannel changes the named fields of a channel, validated as a new channel is.
func (a *alertRoutes) patchChannel(ctx context.Context, project string, r *http.Request) (any, error) {
	c, err := a.channel(ctx, project, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	var p channelPatch
	if err := decodeBody(r, &p); err != nil {
		return nil, err
	}
	p.apply(&c)
	if err := alert.ValidateChannel(&c); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_channel", err.Error())
	}
	if err := a.store.PutChannel(ctx, c); err != nil {
		return nil, err
	}
	return newChannelJSON(c), nil
}

// channelDeliveries lists a channel's latest outbox items, newest first: ?limit= (1–500,
// default 50).
func (a *alertRoutes) channelDeliveries(ctx context.Context, project string, r *http.Request) (any, error) {
	c, err := a.channel(ctx, project, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return nil, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("limit must be an integer from 1 to 500, got %q", v))
		}
		limit = n
	}
	ds, err := a.store.ChannelDeliveries(ctx, project, c.ID, limit)
	if err != nil {
		return nil, err
	}
	out := []deliveryJSON{}
	for _, d := range ds {
		out = append(out, newDeliveryJSON(d))
	}
	return map[string]any{"deliveries": out}, nil
}

// channel returns one of the project's channels; ErrNotFound when there is none.
func (a *alertRoutes) channel(ctx context.Context, project, id string) (store.Channel, error) {
	cs, err := a.store.Channels(ctx, project)
	if err != nil {
		return store.Channel{}, err
	}
	i := slices.IndexFunc(cs, func(c store.Channel) bool { return c.ID == id })
	if i < 0 {
		return store.Channel{}, fmt.Errorf("channel %q: %w", id, store.ErrNotFound)
	}
	return cs[i], nil
}
