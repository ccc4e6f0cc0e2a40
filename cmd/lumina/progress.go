package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// transferCounts is what export and import count; the progress line and the summary show it.
type transferCounts struct {
	Traces, Spans, Logs int64
	Lines, Bytes        int64
	Failures, Retries   int64
	Rejected            int64 // spans or records the endpoint refused in a partial success
}

// progress reports a transfer on stderr: a line redrawn in place when stderr is a terminal,
// a plain line every interval otherwise, and a summary at the end. It is safe for
// concurrent use; run draws until its ctx is done.
type progress struct {
	w        io.Writer
	verb     string // "exported", "imported"
	tty      bool
	interval time.Duration
	total    int64 // bytes to read when known (import of a file), else 0
	start    time.Time

	mu    sync.Mutex
	c     transferCounts
	input int64 // bytes of input read (import)
}

func newProgress(w io.Writer, verb string, total int64) *progress {
	p := &progress{w: w, verb: verb, tty: isTerminal(w), interval: 10 * time.Second, total: total, start: time.Now()}
	if p.tty {
		p.interval = 200 * time.Millisecond
	}
	return p
}

// isTerminal reports whether w is a character device (a terminal), without a dependency.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(fn func(c *transferCounts)) {
	p.mu.Lock()
	fn(&p.c)
	p.mu.Unlock()
}

func (p *progress) read(n int64) {
	p.mu.Lock()
	p.input += n
	p.mu.Unlock()
}

func (p *progress) counts() transferCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c
}

// run redraws the progress line every interval until ctx is done.
func (p *progress) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.draw()
		}
	}
}

func (p *progress) draw() {
	p.mu.Lock()
	line := p.lineLocked()
	p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) lineLocked() string {
	var b strings.Builder
	if p.total > 0 {
		frac := min(float64(p.input)/float64(p.total), 1)
		const width = 24
		done := int(frac * width)
		fmt.Fprintf(&b, "[%s%s] %3.0f%% ", strings.Repeat("#", done), strings.Repeat(".", width-done), frac*100)
	}
	fmt.Fprintf(&b, "%s %d traces, %d spans, %d log records in %d lines (%s)", p.verb, p.c.Traces, p.c.Spans, p.c.Logs, p.c.Lines, humanBytes(p.c.Bytes))
	if p.c.Retries > 0 || p.c.Failures > 0 {
		fmt.Fprintf(&b, ", %d retries, %d failed lines", p.c.Retries, p.c.Failures)
	}
	fmt.Fprintf(&b, ", %s", time.Since(p.start).Round(time.Second))
	return b.String()
}

// summary prints the final counts on a line of their own.
func (p *progress) summary() {
	c := p.counts()
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, "%s %d traces, %d spans, %d log records; %d lines, %d bytes; %d failed lines, %d retries, %d rejected by the endpoint; took %s\n",
		p.verb, c.Traces, c.Spans, c.Logs, c.Lines, c.Bytes, c.Failures, c.Retries, c.Rejected, time.Since(p.start).Round(time.Millisecond))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
