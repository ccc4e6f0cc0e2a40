package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/otlp"
	"github.com/use-lumina/lumina/internal/store"
)

const exportUsage = `Usage: lumina export [--since T] [--until T] [--project P] [--output FILE] [serve flags]

Writes the stored traces (and their log records) as OTLP/JSON lines: each line is one
OTLP ExportTraceServiceRequest ({"resourceSpans":…}) or ExportLogsServiceRequest
({"resourceLogs":…}) in the standard OTLP JSON encoding, so the file can be sent to any
OTLP backend with 'lumina import' (or read by the Collector's otlpjsonfile receiver).
The store is the one 'lumina serve' uses: DATABASE_URL, else SQLite in --data-dir.

--since and --until take an RFC 3339 time (2026-03-01T00:00:00Z), a date (2026-03-01,
UTC), or a duration back from now (24h, 7d). Traces are selected by their start time,
log records that belong to no stored trace by their own time.

`

// exportOptions are export's own flags.
type exportOptions struct {
	since, until time.Time
	project      string
	output       string
	spansPerLine int
	bytesPerLine int64
}

var exportFlags = map[string]bool{"since": false, "until": false, "project": false, "output": false, "o": false, "spans-per-line": false, "bytes-per-line": false}

func parseExportFlags(args []string, now time.Time, stderr io.Writer) (exportOptions, error) {
	var o exportOptions
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.String("since", "", "export traces that started at or after this time (default: the oldest)")
	until := fs.String("until", "", "export traces that started before this time (default: no bound)")
	fs.StringVar(&o.project, "project", "default", "project to export")
	fs.StringVar(&o.output, "output", "-", "file to write (\"-\": standard output)")
	fs.StringVar(&o.output, "o", "-", "short for --output")
	fs.IntVar(&o.spansPerLine, "spans-per-line", 1000, "most spans (or log records) in one line; a trace is split only when it alone has more")
	bytesPerLine := bytesVal(&o.bytesPerLine, 4<<20)
	fs.Var(bytesPerLine, "bytes-per-line", "largest protobuf size of one line's request before a new line starts")
	fs.Usage = func() { fmt.Fprint(stderr, exportUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.since, err = parseWhen(*since, now); err != nil {
		return o, fmt.Errorf("--since: %w", err)
	}
	if o.until, err = parseWhen(*until, now); err != nil {
		return o, fmt.Errorf("--until: %w", err)
	}
	if !o.since.IsZero() && !o.until.IsZero() && !o.until.After(o.since) {
		return o, fmt.Errorf("--until %s is not after --since %s", o.until.Format(time.RFC3339), o.since.Format(time.RFC3339))
	}
	if o.spansPerLine < 1 || o.bytesPerLine < 1 {
		return o, errors.New("--spans-per-line and --bytes-per-line must be positive")
	}
	return o, nil
}

// parseWhen reads a time bound: empty (none), RFC 3339, a UTC date, or a duration ago
// (Go syntax, plus a "d" suffix for days).
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time (2026-03-01T00:00:00Z), a date (2026-03-01) or a duration ago (24h, 7d)", s)
}

// exportCommand is `lumina export`.
func exportCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	mine, rest := splitArgs(args, exportFlags)
	for _, a := range rest {
		if a == "-h" || a == "--help" || a == "-help" {
			mine = append(mine, a)
		}
	}
	o, err := parseExportFlags(mine, time.Now(), stderr)
	if err != nil {
		return err
	}
	cfg, err := parseConfig("export", rest, getenv, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	untraced, ok := st.(store.UntracedLogReader)
	if !ok {
		return fmt.Errorf("export: the %T store cannot list log records", st)
	}

	out := stdout
	var file *os.File
	if o.output != "-" {
		if file, err = os.Create(o.output); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer file.Close()
		out = file
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	p := newProgress(stderr, "exported", 0)
	pctx, stopProgress := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { p.run(pctx) })
	e := &exporter{st: st, logs: untraced, o: o, w: bw, p: p}
	err = e.run(ctx)
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("export: write: %w", ferr)
	}
	if file != nil {
		if cerr := file.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("export: %w", cerr)
		}
	}
	stopProgress()
	wg.Wait()
	p.summary()
	return err
}

// exporter streams one project's window out as OTLP/JSON lines.
type exporter struct {
	st   store.TraceReader
	logs store.UntracedLogReader
	o    exportOptions
	w    io.Writer
	p    *progress

	spans     []genai.Span // the pending traces line
	spanBytes int64
	recs      []genai.LogRecord // the pending logs line
	recBytes  int64
}

const exportPage = 500

func (e *exporter) run(ctx context.Context) error {
	q := store.TraceQuery{ProjectID: e.o.project, Since: e.o.since, Until: e.o.until, Ascending: true, Limit: exportPage}
	for {
		page, err := e.st.Traces(ctx, q)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, t := range page.Traces {
			d, err := e.st.Trace(ctx, e.o.project, t.TraceID)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted by retention since the listing
			}
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := e.addTrace(d); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if err := e.flushSpans(); err != nil {
		return err
	}
	lq := store.UntracedLogQuery{ProjectID: e.o.project, Since: e.o.since, Until: e.o.until, Limit: exportPage}
	for {
		recs, err := e.logs.UntracedLogs(ctx, lq)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := e.addLogs(recs); err != nil {
			return err
		}
		if len(recs) < exportPage {
			break
		}
		last := recs[len(recs)-1]
		lq.AfterTime, lq.AfterID = last.Time, last.ID
	}
	return e.flushLogs()
}

// addTrace queues a trace's spans for the current line, starting a new line first when
// they would not fit; a trace too large for one line on its own is split across lines.
func (e *exporter) addTrace(d store.TraceDetail) error {
	e.p.update(func(c *transferCounts) { c.Traces++ })
	spans := d.Spans
	for len(spans) > 0 {
		n := min(len(spans), e.o.spansPerLine)
		part := spans[:n]
		size := int64((&ptrace.ProtoMarshaler{}).TracesSize(otlp.Traces(part)))
		if len(e.spans) > 0 && (len(e.spans)+n > e.o.spansPerLine || e.spanBytes+size > e.o.bytesPerLine) {
			if err := e.flushSpans(); err != nil {
				return err
			}
		}
		e.spans = append(e.spans, part...)
		e.spanBytes += size
		spans = spans[n:]
	}
	return e.addLogs(d.Logs)
}

func (e *exporter) addLogs(recs []genai.LogRecord) error {
	for len(recs) > 0 {
		n := min(len(recs), e.o.spansPerLine)
		part := recs[:n]
		size := int64((&plog.ProtoMarshaler{}).LogsSize(otlp.LogRecords(part)))
		if len(e.recs) > 0 && (len(e.recs)+n > e.o.spansPerLine || e.recBytes+size > e.o.bytesPerLine) {
			if err := e.flushLogs(); err != nil {
				return err
			}
		}
		e.recs = append(e.recs, part...)
		e.recBytes += size
		recs = recs[n:]
	}
	return nil
}

func (e *exporter) flushSpans() error {
	if len(e.spans) == 0 {
		return nil
	}
	line, err := ptraceotlp.NewExportRequestFromTraces(otlp.Traces(e.spans)).MarshalJSON()
	if err != nil {
		return fmt.Errorf("export: encode traces: %w", err)
	}
	n := int64(len(e.spans))
	e.spans, e.spanBytes = e.spans[:0], 0
	return e.writeLine(line, func(c *transferCounts) { c.Spans += n })
}

func (e *exporter) flushLogs() error {
	if len(e.recs) == 0 {
		return nil
	}
	line, err := plogotlp.NewExportRequestFromLogs(otlp.LogRecords(e.recs)).MarshalJSON()
	if err != nil {
		return fmt.Errorf("export: encode logs: %w", err)
	}
	n := int64(len(e.recs))
	e.recs, e.recBytes = e.recs[:0], 0
	return e.writeLine(line, func(c *transferCounts) { c.Logs += n })
}

func (e *exporter) writeLine(line []byte, count func(c *transferCounts)) error {
	if _, err := e.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	e.p.update(func(c *transferCounts) {
		count(c)
		c.Lines++
		c.Bytes += int64(len(line)) + 1
	})
	return nil
}

// splitArgs separates a subcommand's own flags (named in own, true for boolean flags)
// from the serve flags that configure the store, so each goes to its own parser. Both
// "--name value" and "--name=value" are recognised, with one or two dashes.
func splitArgs(args []string, own map[string]bool) (mine, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		isBool, ok := own[name]
		if !strings.HasPrefix(a, "-") || !ok {
			rest = append(rest, a)
			continue
		}
		mine = append(mine, a)
		if !hasValue && !isBool && i+1 < len(args) {
			i++
			mine = append(mine, args[i])
		}
	}
	return mine, rest
}
