package store

import "time"

// KeySeriesQuery selects the requests of one alert key (what the alert engine samples:
// model calls, and root spans that are not model calls) in a window, to chart an alert's
// metric over time. Service, Endpoint (the span name) and Model (a model call's response
// model, else its request model) match exactly; an empty one matches every span. Since and
// Until (exclusive, after Since) bound the span start time; the window is cut into Buckets
// equal buckets (≤ 0 means 1, above MaxOverviewBuckets means MaxOverviewBuckets).
type KeySeriesQuery struct {
	ProjectID string
	Service   string
	Endpoint  string
	Model     string
	Since     time.Time
	Until     time.Time
	Buckets   int
}

// Normalize bounds q's Buckets and returns the bucket width, rounded up to the nanosecond
// as OverviewQuery.Normalize does. It fails when the window is empty.
func (q *KeySeriesQuery) Normalize() (time.Duration, error) {
	return bucketWidth("key series", q.Since, q.Until, &q.Buckets)
}

// KeyBucket sums the selected requests that started in [Start, Start+width). A request
// failed when its status is error or, for a model call, it reports an error type. Sums
// divided by their counts give the alert metrics: cost per priced request, mean latency,
// error rate and mean quality.
type KeyBucket struct {
	Start      time.Time
	Requests   int64
	Errors     int64
	Priced     int64   // requests with a cost
	CostUSD    float64 // the sum of the priced requests' cost
	LatencyMS  float64 // the sum of the requests' durations, in milliseconds
	Scored     int64   // requests with a quality score
	QualitySum float64
}

// EmptyBuckets is the series of q with each bucket's start and nothing counted yet; the
// backends fill it with PutBucket.
func (q KeySeriesQuery) EmptyBuckets(width time.Duration) []KeyBucket {
	out := make([]KeyBucket, q.Buckets)
	for i := range out {
		out[i].Start = q.Since.Add(time.Duration(i) * width).UTC()
	}
	return out
}

// PutBucket makes b bucket i of out, keeping that bucket's start; an index outside the
// window is ignored.
func PutBucket(out []KeyBucket, i int64, b KeyBucket) {
	if i >= 0 && i < int64(len(out)) {
		b.Start = out[i].Start
		out[i] = b
	}
}
