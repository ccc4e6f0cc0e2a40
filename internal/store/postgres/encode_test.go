package postgres

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

// TestAppendJSON checks the fast encoder against encoding/json: both must decode to the
// same value.
func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"string", "héllo \"quoted\" \\ back\nslash\t\r\x01 \u2028 😀 <html> & ' "},
		{"empty string", ""},
		{"bools", []any{true, false}},
		{"floats", []any{0.0, -0.5, 1.0 / 3, 1e21, 1e-7, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, float32(0.1)}},
		{"ints", []any{int64(math.MaxInt64), int64(math.MinInt64), int(7), int32(-3), uint32(9), uint64(math.MaxUint64)}},
		{"bytes", []byte{0, 1, 2, 255}},
		{"nested", map[string]any{"a": []any{map[string]any{"b": nil}, []any{}}, "": map[string]any{}}},
		{"strings", []string{"x", "y\"z"}},
		{"nil map", map[string]any(nil)},
		{"nil slice", []any(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast, ok := appendJSON(nil, tt.v)
			if !ok {
				t.Fatalf("appendJSON(%#v): not handled", tt.v)
			}
			slow, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(fast, &got); err != nil {
				t.Fatalf("appendJSON wrote invalid JSON %s: %v", fast, err)
			}
			if err := json.Unmarshal(slow, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded: got %#v, want %#v (fast %s, encoding/json %s)", got, want, fast, slow)
			}
		})
	}
}

func TestAppendJSONReplaces(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{"a\x00b", `"a\ufffdb"`},
		{"a\xffb", `"a\ufffdb"`},
		{math.NaN(), `"NaN"`},
		{[]any{math.Inf(-1)}, `["-Inf"]`},
		{map[string]any{"k\x00": 1.0}, `{"k\ufffd":1}`},
	}
	for _, tt := range tests {
		got, ok := appendJSON(nil, tt.v)
		if !ok || string(got) != tt.want {
			t.Errorf("appendJSON(%q): got %s, %v; want %s", tt.v, got, ok, tt.want)
		}
	}
	if _, ok := appendJSON(nil, struct{}{}); ok {
		t.Error("appendJSON(struct): got handled, want fallback")
	}
}

func TestReplaceNUL(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"a\u0000b"`, `"a\ufffdb"`},
		{`"a\\u0000b"`, `"a\\u0000b"`},   // an escaped backslash, then text
		{`"a\\\u0000b"`, `"a\\\ufffdb"`}, // an escaped backslash, then a NUL
		{`"\u00001"`, `"\ufffd1"`},
	}
	for _, tt := range tests {
		if got := string(replaceNUL([]byte(tt.in))); got != tt.want {
			t.Errorf("replaceNUL(%s): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestTimeNS(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"zero", time.Time{}, time.Time{}},
		{"epoch", time.Unix(0, 0), time.Unix(0, 0).UTC()},
		{"nanoseconds", time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.FixedZone("x", 3600)), time.Date(2026, 3, 14, 8, 26, 53, 589793238, time.UTC)},
		{"before 1678", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, math.MinInt64+1).UTC()},
		{"after 2262", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, math.MaxInt64).UTC()},
	}
	for _, tt := range tests {
		if got := fromNS(toNS(tt.in)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDayOf(t *testing.T) {
	for _, c := range []struct {
		ns   int64
		want int64
	}{{0, 0}, {dayNS - 1, 0}, {dayNS, 1}, {-1, -1}, {-dayNS, -1}, {-dayNS - 1, -2}} {
		if got := dayOf(c.ns); got != c.want {
			t.Errorf("dayOf(%d): got %d, want %d", c.ns, got, c.want)
		}
	}
	if got, want := partitionName(dayOf(time.Date(2026, 12, 3, 23, 59, 0, 0, time.UTC).UnixNano())), "spans_p20261203"; got != want {
		t.Errorf("partitionName: got %s, want %s", got, want)
	}
}
