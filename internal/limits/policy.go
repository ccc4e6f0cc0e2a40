package limits

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Policy is the daily trace limit of every project.
type Policy struct {
	// Default is the limit of projects not in Projects; 0 means unlimited.
	Default int64
	// Projects overrides Default per project; 0 means unlimited.
	Projects map[string]int64
}

// Limit is project's daily trace limit, 0 for unlimited.
func (p Policy) Limit(project string) int64 {
	if n, ok := p.Projects[project]; ok {
		return n
	}
	return p.Default
}

// Day is the UTC day that t falls in, as its midnight.
func Day(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}

// dayKey names a day in keys and file names: 20060102.
func dayKey(day time.Time) string { return day.Format("20060102") }

// ParseOverrides reads per-project settings written "project=N,other=M" (the format of
// LUMINA_PROJECT_TRACE_LIMITS and LUMINA_PROJECT_RETENTION_DAYS). Spaces around items are
// ignored; an empty string is no override.
func ParseOverrides(s string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		project, num, ok := strings.Cut(item, "=")
		project = strings.TrimSpace(project)
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if !ok || project == "" || err != nil || n < 0 {
			return nil, fmt.Errorf("override %q: want project=N with N ≥ 0", item)
		}
		out[project] = n
	}
	return out, nil
}
