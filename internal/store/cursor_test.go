package store

import (
	"errors"
	"strings"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []Cursor{{0, strings.Repeat("a", 32)}, {-5, strings.Repeat("0", 32)}, {1 << 62, "5b8efff798038103d269b633813fc60c"}} {
		got, err := DecodeCursor(c.Encode())
		if err != nil || got != c {
			t.Errorf("DecodeCursor(Encode(%v)) = %v, %v", c, got, err)
		}
	}
	for _, bad := range []string{"", "!!", "bm9jb2xvbg", "MTIzOmFiYw"} {
		if _, err := DecodeCursor(bad); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrInvalidCursor", bad, err)
		}
	}
}

// FuzzDecodeCursor: any client-supplied cursor decodes or fails with ErrInvalidCursor, and
// what decodes encodes back to a cursor that decodes the same.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(Cursor{123, strings.Repeat("a", 32)}.Encode())
	f.Add("")
	f.Add("MTIzOmFiYw")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidCursor) {
				t.Fatalf("got %v, want ErrInvalidCursor", err)
			}
			return
		}
		again, err := DecodeCursor(c.Encode())
		if err != nil || again != c {
			t.Fatalf("round trip of %v: %v, %v", c, again, err)
		}
	})
}
