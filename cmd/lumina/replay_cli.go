package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const replayUsage = `Usage:
  lumina replay sets create [--name N] (--service S [--model M] [--tag T] [--since 24h] [--limit 50] | --traces ID,ID…)
  lumina replay sets list
  lumina replay run SET_ID [--model M] [--provider P] [--system-prompt S] [--prompt-template T]
                           [--temperature X] [--max-tokens N] [--base-url URL] [--simulate] [--seed N]
                           [--fail-on-regression]

Every command talks to the replay role (--url, default $LUMINA_REPLAY_URL or http://localhost:8082).
A live run needs the provider's key in the server's environment (ANTHROPIC_API_KEY,
OPENAI_API_KEY); --simulate never calls a provider and its output says so.
`

// regressionError makes `lumina replay run --fail-on-regression` exit 3.
type regressionError struct{ regressed, errors int }

func (e regressionError) Error() string {
	return fmt.Sprintf("replay found %d regression(s) and %d failed item(s)", e.regressed, e.errors)
}

func (regressionError) ExitCode() int { return 3 }

// replayCommand runs `lumina replay …`.
func replayCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, replayUsage)
		return nil
	}
	defURL := getenv("LUMINA_REPLAY_URL")
	if defURL == "" {
		defURL = "http://localhost:8082"
	}
	switch {
	case args[0] == "sets" && len(args) > 1 && args[1] == "create":
		return replaySetsCreate(ctx, args[2:], defURL, stdout, stderr)
	case args[0] == "sets" && len(args) > 1 && args[1] == "list":
		return replaySetsList(ctx, args[2:], defURL, stdout, stderr)
	case args[0] == "run":
		return replayRun(ctx, args[1:], defURL, stdout, stderr)
	}
	fmt.Fprint(stderr, replayUsage)
	return fmt.Errorf("unknown replay command %q", strings.Join(args, " "))
}

// replayAPI calls the replay API.
type replayAPI struct{ base string }

func (c replayAPI) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.base, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s %s: %s (%s)", method, path, e.Error.Message, e.Error.Code)
		}
		return fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

func replaySetsCreate(ctx context.Context, args []string, defURL string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay sets create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", defURL, "replay API base URL")
	name := fs.String("name", "", "set name")
	service := fs.String("service", "", "capture the traces of this service")
	model := fs.String("model", "", "only calls of this model")
	tag := fs.String("tag", "", "only traces with this tag")
	since := fs.Duration("since", 0, "only traces started this long ago or later (e.g. 24h)")
	limit := fs.Int("limit", 50, "at most this many traces")
	traces := fs.String("traces", "", "comma-separated trace ids instead of a filter")
	if err := fs.Parse(args); err != nil {
		return err
	}
	req := map[string]any{"name": *name}
	if *traces != "" {
		req["trace_ids"] = strings.Split(*traces, ",")
	} else {
		f := map[string]any{"service": *service, "model": *model, "tag": *tag, "limit": *limit}
		if *since > 0 {
			f["since"] = time.Now().Add(-*since).UTC()
		}
		req["filter"] = f
	}
	var set struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Items      int    `json:"item_count"`
		Replayable int    `json:"replayable_count"`
	}
	if err := (replayAPI{*url}).do(ctx, "POST", "/api/v1/replay/sets", req, &set); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created set %s (%q): %d calls, %d replayable\n", set.ID, set.Name, set.Items, set.Replayable)
	return nil
}

func replaySetsList(ctx context.Context, args []string, defURL string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay sets list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", defURL, "replay API base URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var out struct {
		Sets []struct {
			ID         string    `json:"id"`
			Name       string    `json:"name"`
			CreatedAt  time.Time `json:"created_at"`
			Items      int       `json:"item_count"`
			Replayable int       `json:"replayable_count"`
		} `json:"sets"`
	}
	if err := (replayAPI{*url}).do(ctx, "GET", "/api/v1/replay/sets", nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-28s  %-20s  %5s  %10s  %s\n", "ID", "CREATED", "CALLS", "REPLAYABLE", "NAME")
	for _, s := range out.Sets {
		fmt.Fprintf(stdout, "%-28s  %-20s  %5d  %10d  %s\n", s.ID, s.CreatedAt.Format(time.DateTime), s.Items, s.Replayable, s.Name)
	}
	return nil
}
