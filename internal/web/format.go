package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Formatting for humans: the dashboard's numbers are dense, so every figure has one
// short, unambiguous form. Times are UTC, always labelled.

// fmtDuration is a duration at a precision that fits its size: 45µs, 812ms, 1.24s, 2m03s.
func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0ms"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// fmtUSD is a dollar amount with enough digits to tell small LLM costs apart.
func fmtUSD(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "$0.00"
	case a >= 100:
		return "$" + fmtInt(int64(math.Round(v)))
	case a >= 1:
		return "$" + strconv.FormatFloat(v, 'f', 2, 64)
	case a >= 0.01:
		return "$" + strconv.FormatFloat(v, 'f', 4, 64)
	}
	return "$" + strconv.FormatFloat(v, 'f', 6, 64)
}

// fmtCost is a trace's or span's cost; nil means unpriced, never $0.
func fmtCost(v *float64) string {
	if v == nil {
		return "unpriced"
	}
	return fmtUSD(*v)
}

// fmtInt groups thousands: 1,234,567.
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtCompact is a count in at most four characters: 987, 12.3k, 4.5M.
func fmtCompact(n int64) string {
	f := float64(n)
	switch {
	case math.Abs(f) >= 1e9:
		return strconv.FormatFloat(f/1e9, 'f', 1, 64) + "B"
	case math.Abs(f) >= 1e6:
		return strconv.FormatFloat(f/1e6, 'f', 1, 64) + "M"
	case math.Abs(f) >= 1e4:
		return strconv.FormatFloat(f/1e3, 'f', 1, 64) + "k"
	}
	return fmtInt(n)
}

// fmtTime is a timestamp in UTC to the millisecond.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

// fmtClock is the time of day in UTC, for a table already grouped by date.
func fmtClock(t time.Time) string { return t.UTC().Format("Jan 2 15:04:05") }

// fmtAgo says how long before now t was: 5s ago, 3m ago, 2h ago, 4d ago.
func fmtAgo(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// fmtPercent is a ratio as a percentage with one decimal.
func fmtPercent(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + "%" }

// fmtPerMTok is a price per million tokens.
func fmtPerMTok(v float64) string {
	return "$" + strings.TrimRight(strings.TrimRight(strconv.FormatFloat(v, 'f', 4, 64), "0"), ".")
}

// shortID is the first 8 characters of an id, for dense tables.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// trimFloat is v with at most prec decimals and no trailing zeros: 0.7, 1.25, 3.
func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
