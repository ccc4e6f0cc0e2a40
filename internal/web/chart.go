package web

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Charts are drawn on the server as SVG: the template gets geometry, never data to
// interpret, so a chart needs no script and shows with JavaScript off.

// Chart geometry, in SVG user units; the SVG scales to its container's width.
const (
	chartW      = 560.0
	chartH      = 180.0
	chartLeft   = 58.0
	chartRight  = 8.0
	chartTop    = 8.0
	chartBottom = 22.0
	maxSeries   = 6 // stacked series beyond this are summed into "other"
)

// chart is an SVG chart's geometry and labels.
type chart struct {
	Label  string // the accessible description
	W, H   float64
	Left   float64
	Bottom float64 // y of the x axis
	Right  float64 // x of the right edge of the plot
	YTicks []tick
	XTicks []tick
	Bars   []bar
	Lines  []line
	Legend []legendItem
	Refs   []refLine // horizontal reference lines across the plot
	Marks  []mark    // vertical markers at a moment
	Empty  bool
}

// refLine is a horizontal line at a value, such as a baseline or a threshold.
type refLine struct {
	Y     float64
	Class string
	Label string
}

// mark is a vertical line at a moment, such as when an alert fired. Its label sits on the
// side of the line with more room: left of it (End true) in the plot's right half.
type mark struct {
	X, Y1, Y2 float64
	Label     string
	End       bool
}

type tick struct {
	Pos   float64
	Label string
}

type bar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type line struct {
	Class string
	D     string // SVG path data
	Dots  []dot
}

type dot struct {
	X, Y  float64
	Title string
}

type legendItem struct {
	Name  string
	Class string
	Value string
}

// seriesData is one named series of per-bucket values.
type seriesData struct {
	Name   string
	Values []float64
	Total  string // shown in the legend
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten, for round axis ticks.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// axis fills c's frame and y ticks for values up to peak, the axis reaching at least minTop
// (4 for counts, so their ticks are whole numbers).
func (c *chart) axis(peak, minTop float64, format func(float64) string) float64 {
	c.W, c.H, c.Left, c.Bottom, c.Right = chartW, chartH, chartLeft, chartH-chartBottom, chartW-chartRight
	top := niceCeil(max(peak, minTop))
	if minTop > 0 { // whole-number ticks: a multiple of the four intervals
		top = math.Ceil(max(peak, minTop)/4) * 4
	}
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		c.YTicks = append(c.YTicks, tick{Pos: round2(c.Bottom - (c.Bottom-chartTop)*v/top), Label: format(v)})
	}
	return top
}

// xTicks labels about six bucket starts.
func (c *chart) xTicks(starts []time.Time, width time.Duration, x func(i int) float64) {
	if len(starts) == 0 {
		return
	}
	layout := "15:04"
	if width >= 6*time.Hour {
		layout = "Jan 2"
	} else if width*time.Duration(len(starts)) > 24*time.Hour {
		layout = "Jan 2 15:04"
	}
	step := max(1, (len(starts)+5)/6)
	for i := 0; i < len(starts); i += step {
		c.XTicks = append(c.XTicks, tick{Pos: round2(x(i)), Label: starts[i].UTC().Format(layout)})
	}
}

// stackedBars draws one bar per bucket, stacking the series (largest first); series past
// maxSeries are summed into "other".
func stackedBars(label string, starts []time.Time, width time.Duration, series []seriesData, format func(float64) string, minTop float64) chart {
	c := chart{Label: label}
	if len(series) > maxSeries {
		other := seriesData{Name: "other", Values: make([]float64, len(starts))}
		for _, s := range series[maxSeries-1:] {
			for i, v := range s.Values {
				other.Values[i] += v
			}
		}
		other.Total = ""
		series = append(series[:maxSeries-1:maxSeries-1], other)
	}
	var peak float64
	for i := range starts {
		var sum float64
		for _, s := range series {
			sum += s.Values[i]
		}
		peak = max(peak, sum)
	}
	c.Empty = peak == 0
	top := c.axis(peak, minTop, format)
	n := float64(max(len(starts), 1))
	slot := (c.Right - c.Left) / n
	bw := math.Max(1, slot*0.72)
	x := func(i int) float64 { return c.Left + slot*float64(i) + (slot-bw)/2 }
	for i, start := range starts {
		y := c.Bottom
		for k, s := range series {
			v := s.Values[i]
			if v <= 0 {
				continue
			}
			h := (c.Bottom - chartTop) * v / top
			y -= h
			c.Bars = append(c.Bars, bar{X: round2(x(i)), Y: round2(y), W: round2(bw), H: round2(h),
				Class: seriesClass(k, s.Name),
				Title: start.UTC().Format("Jan 2 15:04") + " UTC · " + s.Name + " · " + format(v)})
		}
	}
	for k, s := range series {
		c.Legend = append(c.Legend, legendItem{Name: s.Name, Class: seriesClass(k, s.Name), Value: s.Total})
	}
	c.xTicks(starts, width, func(i int) float64 { return x(i) + bw/2 })
	return c
}

// lines draws each series as a polyline through the buckets' centres; buckets without a
// value (NaN) are skipped and the line joins their neighbours, as sparse traffic needs.
func lines(label string, starts []time.Time, width time.Duration, series []seriesData, format func(float64) string) chart {
	c, _ := scaledLines(label, starts, width, series, format, 0)
	return c
}

// scaledLines is lines with a y axis reaching at least floor (so reference lines fit); it
// also returns the axis top.
func scaledLines(label string, starts []time.Time, width time.Duration, series []seriesData, format func(float64) string, floor float64) (chart, float64) {
	c := chart{Label: label}
	var peak float64
	for _, s := range series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				peak = max(peak, v)
			}
		}
	}
	c.Empty = peak == 0
	top := c.axis(max(peak, floor), 0, format)
	slot := (c.Right - c.Left) / float64(max(len(starts), 1))
	x := func(i int) float64 { return c.Left + slot*(float64(i)+0.5) }
	for k, s := range series {
		l := line{Class: seriesClass(k, s.Name)}
		var d strings.Builder
		pen := false
		for i, v := range s.Values {
			if math.IsNaN(v) {
				continue
			}
			px, py := round2(x(i)), round2(c.Bottom-(c.Bottom-chartTop)*v/top)
			if pen {
				d.WriteString(" L")
			} else {
				d.WriteString(" M")
			}
			d.WriteString(strconv.FormatFloat(px, 'f', -1, 64) + " " + strconv.FormatFloat(py, 'f', -1, 64))
			pen = true
			l.Dots = append(l.Dots, dot{X: px, Y: py, Title: starts[i].UTC().Format("Jan 2 15:04") + " UTC · " + s.Name + " " + format(v)})
		}
		l.D = strings.TrimSpace(d.String())
		c.Lines = append(c.Lines, l)
		c.Legend = append(c.Legend, legendItem{Name: s.Name, Class: seriesClass(k, s.Name), Value: s.Total})
	}
	c.xTicks(starts, width, x)
	return c, top
}

func seriesClass(k int, name string) string {
	switch name {
	case "other":
		return "s-other"
	case "error":
		return "s-err"
	}
	return "s" + strconv.Itoa(k%maxSeries)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// axisUSD labels a cost axis.
func axisUSD(v float64) string {
	if v == 0 {
		return "$0"
	}
	if v >= 100 {
		return fmtUSD(v)
	}
	return "$" + strconv.FormatFloat(v, 'g', 4, 64)
}

// axisMS labels a latency axis given in milliseconds.
func axisMS(v float64) string { return fmtDuration(time.Duration(v * float64(time.Millisecond))) }

// axisCount labels a count axis.
func axisCount(v float64) string { return fmtCompact(int64(math.Round(v))) }
