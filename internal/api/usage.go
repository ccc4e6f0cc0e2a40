package api

import (
	"context"
	"net/http"
	"time"

	"github.com/use-lumina/lumina/internal/limits"
)

// UsageReader reports a project's daily trace quota (*limits.Quota).
type UsageReader interface {
	Usage(ctx context.Context, project string) (limits.Usage, error)
}

// usageJSON is the body of GET /api/v1/usage.
type usageJSON struct {
	ProjectID string `json:"project_id"`
	Day       string `json:"day"` // the UTC day counted, YYYY-MM-DD
	Count     int64  `json:"count"`
	Limit     int64  `json:"limit"` // 0 when unlimited
	Unlimited bool   `json:"unlimited"`
	Remaining *int64 `json:"remaining"` // null when unlimited
	Reset     string `json:"reset"`     // RFC 3339, the next 00:00 UTC
}

// RegisterUsage adds GET /api/v1/usage: today's trace count of the caller's project, its
// daily limit and when the count resets. With a nil reader (the api role cannot see the
// ingest processes' counts: split roles without REDIS_URL) the route says so with a 503.
func (s *Server) RegisterUsage(mux *http.ServeMux, usage UsageReader) {
	mux.HandleFunc("GET /api/v1/usage", s.handle(func(ctx context.Context, project string, _ *http.Request) (any, error) {
		if usage == nil {
			return nil, errorf(http.StatusServiceUnavailable, "not_configured",
				"usage is counted by the ingest processes; set REDIS_URL so the api role can read it")
		}
		u, err := usage.Usage(ctx, project)
		if err != nil {
			return nil, errorf(http.StatusServiceUnavailable, "unavailable", "cannot read the trace count: "+err.Error())
		}
		out := usageJSON{ProjectID: u.ProjectID, Day: u.Day.Format(time.DateOnly), Count: u.Count, Limit: u.Limit,
			Unlimited: u.Limit <= 0, Reset: u.Reset.UTC().Format(time.RFC3339)}
		if u.Limit > 0 {
			rem := max(u.Limit-u.Count, 0)
			out.Remaining = &rem
		}
		return out, nil
	}))
}
