package web

import "context"

// settingsData is the settings page.
type settingsData struct {
	Project      string
	Providers    []Provider
	OTLPEndpoint string
	APIEndpoint  string
}

func (s *Server) settings(_ context.Context, r *request) (view, error) {
	return view{Page: "settings", Title: "Settings", Nav: "settings", Data: settingsData{
		Project: r.Project, Providers: s.cfg.Providers, OTLPEndpoint: s.cfg.OTLPEndpoint, APIEndpoint: s.cfg.APIEndpoint,
	}}, nil
}

// placeholderData says plainly that a page is not built yet, and what it will hold.
type placeholderData struct {
	Name    string
	Summary string
	Planned []string
}

var placeholders = map[string]placeholderData{
	"sessions": {Name: "Sessions", Summary: "Conversations grouped by session id, with totals per session and per user.",
		Planned: []string{"Sessions and users with trace counts, cost, tokens and latency", "A session's traces in order, as one conversation"}},
	"alerts": {Name: "Alerts", Summary: "Cost, quality, latency, error-rate and budget alerts, with their rules and notification channels.",
		Planned: []string{"Firing, acknowledged and resolved alerts with the triggering trace", "Baseline vs observed charts", "Rules and channels editor with a test send"}},
	"replay": {Name: "Replay Studio", Summary: "Replay captured production calls against a new prompt or model and compare cost, latency and output.",
		Planned: []string{"Replay sets from picked traces or a filter", "Live and simulation runs with a cost estimate", "Side-by-side diffs per item"}},
}

func (s *Server) placeholder(key string) pageFunc {
	d := placeholders[key]
	return func(context.Context, *request) (view, error) {
		return view{Page: "placeholder", Title: d.Name, Nav: key, Data: d}, nil
	}
}
