package store

import "time"

// QualitySeriesQuery selects a project's LLM spans that carry a quality assessment (the
// spans QualityPoints lists) in a window, to chart quality over time. Since and Until
// (exclusive, after Since) bound the span start time; the window is cut into Buckets equal
// buckets as KeySeriesQuery's is. A score below Low counts in QualityBucket.Low.
type QualitySeriesQuery struct {
	ProjectID string
	Since     time.Time
	Until     time.Time
	Buckets   int
	Low       float64
}

// Normalize bounds q's Buckets and returns the bucket width, rounded up to the nanosecond
// as OverviewQuery.Normalize does, so a series and an overview of the same window and
// bucket count have the same buckets. It fails when the window is empty.
func (q *QualitySeriesQuery) Normalize() (time.Duration, error) {
	return bucketWidth("quality series", q.Since, q.Until, &q.Buckets)
}

// QualityBucket counts the assessed LLM spans that started in [Start, Start+width). Sums
// rather than means, so buckets add up to the window's totals exactly.
type QualityBucket struct {
	Start    time.Time
	Assessed int64   // spans with a quality assessment, scored or not
	Scored   int64   // of which carry a score
	ScoreSum float64 // the sum of those scores
	Low      int64   // scored below QualitySeriesQuery.Low
	Tier2    int64   // scored by the LLM judge (genai.QualityTier2)
}

// EmptyBuckets is the series of q with each bucket's start and nothing counted yet; the
// backends fill it with PutQualityBucket.
func (q QualitySeriesQuery) EmptyBuckets(width time.Duration) []QualityBucket {
	out := make([]QualityBucket, q.Buckets)
	for i := range out {
		out[i].Start = q.Since.Add(time.Duration(i) * width).UTC()
	}
	return out
}

// PutQualityBucket makes b bucket i of out, keeping that bucket's start; an index outside
// the window is ignored.
func PutQualityBucket(out []QualityBucket, i int64, b QualityBucket) {
	if i >= 0 && i < int64(len(out)) {
		b.Start = out[i].Start
		out[i] = b
	}
}
