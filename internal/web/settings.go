package web

import (
	"context"

	"github.com/use-lumina/lumina/internal/auth"
	"github.com/use-lumina/lumina/internal/limits"
	"github.com/use-lumina/lumina/internal/store"
)

// settingsData is the settings page.
type settingsData struct {
	Project      string
	Providers    []Provider
	OTLPEndpoint string
	APIEndpoint  string
	// AuthRequired says whether keys and sign-in are on; the rest is empty when not.
	AuthRequired bool
	Principal    auth.Principal
	Projects     []store.Project // the projects the caller may switch to
	Keys         []store.APIKey
	// NewKey and NewSecret show a just-created key's secret, once.
	NewKey, NewSecret string
	// Usage is today's trace count against the daily limit; UsageNote says why it is
	// missing.
	Usage        *limits.Usage
	UsagePercent string
	UsageNote    string
	// RetentionDays (0: forever) and RetentionAt (when the job runs) describe retention, when
	// HasRetention.
	HasRetention  bool
	RetentionDays int
	RetentionAt   string
	// Admin is the administration section, for an admin's session only; Flash says what
	// it just created.
	Admin *adminData
	Flash string
}

func (s *Server) settings(ctx context.Context, r *request) (view, error) {
	d := settingsData{
		Project: r.Project, Providers: s.cfg.Providers, OTLPEndpoint: s.cfg.OTLPEndpoint, APIEndpoint: s.cfg.APIEndpoint,
	}
	q := s.quota(ctx, r.Project)
	d.Usage, d.UsagePercent, d.UsageNote = q.Usage, q.Percent, q.Note
	if rc := s.cfg.Retention; rc != nil {
		d.HasRetention, d.RetentionDays = true, rc.DaysFor(r.Project)
		d.RetentionAt = s.cfg.RetentionSchedule
	}
	if s.cfg.Auth != nil && s.cfg.Auth.Required() {
		p, err := s.cfg.Auth.Request(r.Request)
		if err != nil {
			return view{}, err
		}
		d.AuthRequired, d.Principal = true, p
		if d.Projects, err = s.cfg.Auth.ProjectsOf(ctx, p); err != nil {
			return view{}, err
		}
		if d.Keys, err = s.cfg.Auth.Keys(ctx, r.Project); err != nil {
			return view{}, err
		}
		if p.Method == "session" && p.Admin {
			d.Admin = &adminData{}
			if d.Admin.Users, err = s.cfg.Auth.Users(ctx); err != nil {
				return view{}, err
			}
			switch q := r.URL.Query(); {
			case q.Get("project_created") != "":
				d.Flash = "Created project " + q.Get("project_created") + "."
			case q.Get("user_created") != "":
				d.Flash = "Created user " + q.Get("user_created") + "."
			}
		}
	}
	return view{Page: "settings", Title: "Settings", Nav: "settings", Data: d}, nil
}
