package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

const importUsage = `Usage: lumina import --endpoint URL [--api-key K] [--header k=v]... FILE|-

Sends each line of FILE (or standard input for -), one OTLP/JSON ExportTraceServiceRequest
or ExportLogsServiceRequest per line as 'lumina export' and the Collector's file exporter
write them, to an OTLP/HTTP endpoint: Lumina's http://host:4318 (or :8080) or any other
OTLP backend. URL is the base endpoint; /v1/traces and /v1/logs are appended (a URL that
already ends in one of them is accepted too). Requests are protobuf unless --format json.

429 and 5xx answers and network errors are retried with exponential backoff, honouring
Retry-After; any other 4xx answer, or a line that is not OTLP/JSON, stops the import with
the line number (--keep-going records it and carries on; the exit status is then 1).

`

// importOptions are import's flags.
type importOptions struct {
	endpoint     string
	apiKey       string
	headers      headerList
	format       string
	compression  string
	retries      int
	retryInitial time.Duration
	retryMax     time.Duration
	maxWait      time.Duration
	timeout      time.Duration
	keepGoing    bool
	file         string
}

// headerList is a repeatable --header k=v flag.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ",") }
func (h *headerList) Set(s string) error { *h = append(*h, s); return nil }

func parseImportFlags(args []string, getenv func(string) string, stderr io.Writer) (importOptions, error) {
	var o importOptions
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.endpoint, "endpoint", "", "OTLP/HTTP base URL, e.g. http://localhost:4318 (required)")
	fs.StringVar(&o.apiKey, "api-key", "", "API key, sent as Authorization: Bearer K (env LUMINA_API_KEY)")
	fs.Var(&o.headers, "header", "extra request header as name=value; repeatable (e.g. x-honeycomb-team=KEY)")
	fs.StringVar(&o.format, "format", "protobuf", "request encoding: protobuf or json")
	fs.StringVar(&o.compression, "compression", "gzip", "request compression: gzip or none")
	fs.IntVar(&o.retries, "retries", 8, "retries of one line after its first attempt")
	fs.DurationVar(&o.retryInitial, "retry-initial", time.Second, "first retry backoff; it doubles each retry")
	fs.DurationVar(&o.retryMax, "retry-max", 30*time.Second, "longest backoff between retries")
	fs.DurationVar(&o.maxWait, "max-retry-wait", 5*time.Minute, "longest Retry-After honoured; a longer one fails the line")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.BoolVar(&o.keepGoing, "keep-going", false, "record a failed line and go on with the next (exit status 1 at the end)")
	fs.Usage = func() { fmt.Fprint(stderr, importUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.apiKey == "" {
		o.apiKey = getenv("LUMINA_API_KEY")
	}
	var errs []error
	switch fs.NArg() {
	case 1:
		o.file = fs.Arg(0)
	case 0:
		errs = append(errs, errors.New("name the file to import (or - for standard input)"))
	default:
		errs = append(errs, fmt.Errorf("one file at a time, got %s", strings.Join(fs.Args(), " ")))
	}
	base, err := endpointBase(o.endpoint)
	if err != nil {
		errs = append(errs, err)
	}
	o.endpoint = base
	if o.format != "protobuf" && o.format != "json" {
		errs = append(errs, fmt.Errorf("--format %q: want protobuf or json", o.format))
	}
	if o.compression != "gzip" && o.compression != "none" {
		errs = append(errs, fmt.Errorf("--compression %q: want gzip or none", o.compression))
	}
	if o.retries < 0 || o.retryInitial <= 0 || o.retryMax < o.retryInitial || o.timeout <= 0 {
		errs = append(errs, errors.New("--retries must not be negative; --retry-initial and --timeout must be positive, --retry-max at least --retry-initial"))
	}
	for _, h := range o.headers {
		if k, _, ok := strings.Cut(h, "="); !ok || strings.TrimSpace(k) == "" {
			errs = append(errs, fmt.Errorf("--header %q: want name=value", h))
		}
	}
	return o, errors.Join(errs...)
}

// endpointBase checks an endpoint URL and strips a signal path from it.
func endpointBase(s string) (string, error) {
	if s == "" {
		return "", errors.New("--endpoint is required, e.g. --endpoint http://localhost:4318")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--endpoint %q: want an http:// or https:// URL such as http://localhost:4318", s)
	}
	u.RawQuery, u.Fragment = "", ""
	p := strings.TrimRight(u.Path, "/")
	for _, sig := range []string{"/v1/traces", "/v1/logs"} {
		p = strings.TrimSuffix(p, sig)
	}
	u.Path = p
	return u.String(), nil
}

// importCommand is `lumina import`.
func importCommand(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	o, err := parseImportFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	in := stdin
	var size int64
	if o.file != "-" {
		f, err := os.Open(o.file)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in = f
	}
	header := http.Header{}
	if o.apiKey != "" {
		header.Set("Authorization", "Bearer "+o.apiKey)
	}
	for _, h := range o.headers {
		k, v, _ := strings.Cut(h, "=")
		header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	p := newProgress(stderr, "imported", size)
	s := &sender{
		client: &http.Client{Timeout: o.timeout}, base: o.endpoint, header: header,
		json: o.format == "json", gzip: o.compression == "gzip",
		retries: o.retries, initial: o.retryInitial, maxBackoff: o.retryMax, maxWait: o.maxWait,
		sleep:   sleepCtx,
		onRetry: func(int, time.Duration, error) { p.update(func(c *transferCounts) { c.Retries++ }) },
	}
	pctx, stopProgress := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { p.run(pctx) })
	im := &importer{s: s, p: p, stderr: stderr, keepGoing: o.keepGoing}
	err = im.run(ctx, in)
	stopProgress()
	wg.Wait()
	p.summary()
	return err
}

// importer sends a file's lines one at a time, in order.
type importer struct {
	s         *sender
	p         *progress
	stderr    io.Writer
	keepGoing bool
	seen      map[[16]byte]struct{} // trace ids sent so far
}

func (im *importer) run(ctx context.Context, in io.Reader) error {
	r := bufio.NewReaderSize(in, 1<<20)
	var failed, lines int
	for no := 1; ; no++ {
		raw, rerr := r.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return fmt.Errorf("import: read line %d: %w", no, rerr)
		}
		if line := bytes.TrimSpace(raw); len(line) > 0 {
			lines++
			if err := im.line(ctx, line); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("import: line %d: %w", no, ctx.Err())
				}
				im.p.update(func(c *transferCounts) { c.Failures++ })
				if !im.keepGoing {
					return fmt.Errorf("import: line %d: %w", no, err)
				}
				failed++
				fmt.Fprintf(im.stderr, "line %d failed: %v\n", no, err)
			}
		}
		im.p.read(int64(len(raw))) // done with it: the bar moves as lines are sent
		if rerr != nil {
			break
		}
	}
	if failed > 0 {
		return fmt.Errorf("import: %d of %d lines failed", failed, lines)
	}
	return nil
}

// line decodes one OTLP/JSON line, sends it and counts it.
func (im *importer) line(ctx context.Context, line []byte) error {
	signal, err := lineSignal(line)
	if err != nil {
		return err
	}
	var body []byte
	var traces, spans, logs int64
	switch signal {
	case "traces":
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalJSON(line); err != nil {
			return fmt.Errorf("not an OTLP/JSON traces request: %w", err)
		}
		traces, spans = im.newTraces(req), int64(req.Traces().SpanCount())
		if !im.s.json {
			body, err = req.MarshalProto()
		}
	case "":
		return nil
	case "logs":
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalJSON(line); err != nil {
			return fmt.Errorf("not an OTLP/JSON logs request: %w", err)
		}
		logs = int64(req.Logs().LogRecordCount())
		if !im.s.json {
			body, err = req.MarshalProto()
		}
	}
	if err != nil {
		return fmt.Errorf("encode protobuf: %w", err)
	}
	if body == nil {
		body = line
	}
	if spans+logs > 0 {
		res, err := im.s.send(ctx, signal, body)
		if err != nil {
			return err
		}
		if res.Rejected > 0 {
			im.p.update(func(c *transferCounts) { c.Rejected += res.Rejected })
			fmt.Fprintf(im.stderr, "the endpoint rejected %d of %d %s: %s\n", res.Rejected, spans+logs, signal, res.Message)
		}
	}
	im.p.update(func(c *transferCounts) {
		c.Traces += traces
		c.Spans += spans
		c.Logs += logs
		c.Lines++
		c.Bytes += int64(len(line)) + 1
	})
	return nil
}

// lineSignal says which signal an OTLP/JSON request is, from its top-level key (camelCase
// as protojson writes it, or snake_case as some producers do).
func lineSignal(line []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", errors.New("not an OTLP/JSON request: a line must be one JSON object")
	}
	if !dec.More() {
		return "", nil // {}: an empty request
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("not an OTLP/JSON request: %w", err)
		}
		switch tok {
		case "resourceSpans", "resource_spans":
			return "traces", nil
		case "resourceLogs", "resource_logs":
			return "logs", nil
		case "resourceMetrics", "resource_metrics":
			return "", errors.New("an OTLP metrics request: lumina import sends traces and logs only")
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", fmt.Errorf("not an OTLP/JSON request: %w", err)
		}
	}
	return "", errors.New("not an OTLP/JSON request: no resourceSpans or resourceLogs")
}

// newTraces counts the trace ids of a request not seen in earlier lines (a trace may be
// split across lines).
func (im *importer) newTraces(req ptraceotlp.ExportRequest) int64 {
	if im.seen == nil {
		im.seen = map[[16]byte]struct{}{}
	}
	n := 0
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				id := spans.At(k).TraceID()
				if _, ok := im.seen[id]; !ok {
					im.seen[id] = struct{}{}
					n++
				}
			}
		}
	}
	return int64(n)
}
