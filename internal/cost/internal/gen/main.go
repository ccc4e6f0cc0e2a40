// Command gen builds internal/cost/prices.json, Lumina's embedded price table, from the
// third-party price data checked in under internal/cost/sources.
//
// Run it through `go generate ./internal/cost`. The output is deterministic: the same
// sources always give the same bytes, and a test regenerates the table in memory and
// fails when the checked-in file differs, so the table never drifts from its sources.
//
// Precedence, per (provider, model) key:
//
//  1. Lumina overrides (sources/lumina/overrides.json): field-level corrections of data
//     errors found in the sources, each with its reason.
//  2. genai-prices, for models whose price changed on a known date (start_date
//     constraints): its dated segments become the model's price history, also for the
//     model's dated ids and for its provider and region variants that LiteLLM prices at
//     1× or 1.1× one of those segments.
//  3. LiteLLM, the widest catalogue with the most provider and region variants; fields it
//     lacks (cache read, cache writes, reasoning, tiers) are filled from genai-prices when
//     both agree on the input and output price.
//  4. genai-prices, for models LiteLLM does not have.
//  5. Langfuse, for models neither of the others has.
//
// Aliases come from genai-prices' curated match rules (their equals and starts_with names,
// used as exact names only, never as prefixes) and from Langfuse's match patterns (every
// name a finite pattern matches). An alias that is a priced name itself, or that two
// models claim, is dropped.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// sourceFiles lists the data files read, relative to the sources directory; their
// SHA-256 is recorded in the output so a reader can tell which data made the table.
var sourceFiles = []string{
	"litellm/model_prices_and_context_window.json",
	"genai-prices/data.json",
	"langfuse/default-model-prices.json",
	"lumina/overrides.json",
}

func main() {
	src := flag.String("sources", "sources", "directory holding the copied price data")
	out := flag.String("out", "prices.json", "table to write")
	report := flag.String("report", "price-disagreements.md", "disagreement report to write")
	flag.Parse()
	if err := run(*src, *out, *report); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(src, out, reportPath string) error {
	res, err := generate(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, res.table, 0o644); err != nil {
		return fmt.Errorf("write %q: %w", out, err)
	}
	if err := os.WriteFile(reportPath, res.report, 0o644); err != nil {
		return fmt.Errorf("write %q: %w", reportPath, err)
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %s: %s\n", out, res.summary)
	return nil
}

// result is what one generator run produces.
type result struct {
	table   []byte // prices.json
	report  []byte // price-disagreements.md
	summary string // one line for the terminal
}

// generate reads every source under dir and returns the encoded table, the
// disagreement report and a one-line summary of what went into them.
func generate(dir string) (result, error) {
	files := make(map[string][]byte, len(sourceFiles))
	var sums []sourceSum
	for _, name := range sourceFiles {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return result{}, fmt.Errorf("read source %q: %w", name, err)
		}
		files[name] = b
		h := sha256.Sum256(b)
		sums = append(sums, sourceSum{File: name, SHA256: hex.EncodeToString(h[:])})
	}

	ll, err := parseLiteLLM(files[sourceFiles[0]])
	if err != nil {
		return result{}, fmt.Errorf("parse litellm: %w", err)
	}
	gp, aliases, err := parseGenAIPrices(files[sourceFiles[1]])
	if err != nil {
		return result{}, fmt.Errorf("parse genai-prices: %w", err)
	}
	lf, lfAliases, err := parseLangfuse(files[sourceFiles[2]])
	if err != nil {
		return result{}, fmt.Errorf("parse langfuse: %w", err)
	}
	ov, err := parseOverrides(files[sourceFiles[3]])
	if err != nil {
		return result{}, fmt.Errorf("parse overrides: %w", err)
	}

	t, st, err := merge(ll, gp, lf, append(aliases, lfAliases...), ov)
	if err != nil {
		return result{}, err
	}
	t.Sources = sums
	var buf bytes.Buffer
	if err := encode(&buf, t); err != nil {
		return result{}, fmt.Errorf("encode table: %w", err)
	}
	return result{table: buf.Bytes(), report: st.report(), summary: st.String()}, nil
}
