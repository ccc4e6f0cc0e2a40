package alert

import (
	"fmt"
	"net/url"

	"github.com/use-lumina/lumina/internal/store"
)

// ValidateChannel checks a new channel and fills its default name (its type). Webhook,
// Slack and Discord channels need an absolute http or https URL; PagerDuty needs a routing
// key (its URL defaults to the Events v2 endpoint). It returns a message fit for an API
// client or a form, and never repeats the secret or the routing key in it.
func ValidateChannel(c *store.Channel) error {
	switch c.Type {
	case store.ChannelWebhook, store.ChannelSlack, store.ChannelDiscord:
		if c.URL == "" {
			return fmt.Errorf("%s channels need a url", c.Type)
		}
	case store.ChannelPagerDuty:
		if c.RoutingKey == "" {
			return fmt.Errorf("pagerduty channels need a routing_key (the Events API v2 integration key)")
		}
	default:
		return fmt.Errorf("type %q: want webhook, slack, pagerduty or discord", c.Type)
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url must be an absolute http or https URL")
		}
	}
	switch c.MinSeverity {
	case "", store.SeverityInfo, store.SeverityWarning, store.SeverityCritical:
	default:
		return fmt.Errorf("min_severity: want info, warning or critical")
	}
	if c.Name == "" {
		c.Name = c.Type
	}
	return nil
}
