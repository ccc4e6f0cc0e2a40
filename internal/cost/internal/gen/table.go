package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
)

// The output schema. internal/cost decodes the same field names; USD per 1M tokens.

type table struct {
	Version int         `json:"version"`
	Note    string      `json:"note"`
	Sources []sourceSum `json:"sources"`
	Prices  []*row      `json:"prices"`
	Aliases []alias     `json:"aliases"`
}

type sourceSum struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

type row struct {
	ID           string   `json:"id"`
	Provider     string   `json:"provider"`
	Model        string   `json:"model"`
	Mode         string   `json:"mode,omitempty"` // "embedding" when priced on input only
	From         string   `json:"from,omitempty"` // YYYY-MM-DD, effective from (UTC)
	Input        float64  `json:"in"`
	Output       float64  `json:"out"`
	CacheRead    *float64 `json:"cache_read,omitempty"`
	CacheWrite   *float64 `json:"cache_write,omitempty"`
	CacheWrite1h *float64 `json:"cache_write_1h,omitempty"`
	Reasoning    *float64 `json:"reasoning,omitempty"`
	Tiers        []tier   `json:"tiers,omitempty"`
	Source       string   `json:"src"`
}

type tier struct {
	Above        int64    `json:"above"`
	Input        float64  `json:"in"`
	Output       float64  `json:"out"`
	CacheRead    *float64 `json:"cache_read,omitempty"`
	CacheWrite   *float64 `json:"cache_write,omitempty"`
	CacheWrite1h *float64 `json:"cache_write_1h,omitempty"`
}

type alias struct {
	Provider string `json:"provider"`
	Alias    string `json:"alias"`
	Model    string `json:"model"`
	Source   string `json:"src"`
}

// encode writes t with one price or alias per line, so regenerating gives readable diffs.
func encode(w io.Writer, t *table) error {
	var b strings.Builder
	fmt.Fprintf(&b, "{\n\"version\": %d,\n", t.Version)
	note, _ := json.Marshal(t.Note)
	fmt.Fprintf(&b, "\"note\": %s,\n\"sources\": [\n", note)
	for i, s := range t.Sources {
		line, err := json.Marshal(s)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteString(sep(i, len(t.Sources)))
	}
	b.WriteString("],\n\"prices\": [\n")
	for i, r := range t.Prices {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteString(sep(i, len(t.Prices)))
	}
	b.WriteString("],\n\"aliases\": [\n")
	for i, a := range t.Aliases {
		line, err := json.Marshal(a)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteString(sep(i, len(t.Aliases)))
	}
	b.WriteString("]\n}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func sep(i, n int) string {
	if i == n-1 {
		return "\n"
	}
	return ",\n"
}

func sortRows(rows []*row) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return a.From < b.From
	})
}

// perTokenToMTok converts a decimal USD-per-token string to USD per million tokens
// exactly (as a rational) before rounding once to float64, so 2.5e-06 becomes 2.5 and
// not 2.4999999999999996.
func perTokenToMTok(s string) (float64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("bad number %q", s)
	}
	r.Mul(r, big.NewRat(1_000_000, 1))
	f, _ := r.Float64()
	return f, nil
}

func ptr(f float64) *float64 { return &f }

// agree reports whether two prices agree within 1%.
func agree(a, b float64) bool {
	if a == b {
		return true
	}
	d := a - b
	if d < 0 {
		d = -d
	}
	m := a
	if b > m {
		m = b
	}
	return d <= 0.01*m
}
