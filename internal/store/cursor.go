package store

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Cursor is a keyset position in a trace listing: the sort key of the last trace returned
// and its id, which breaks ties.
type Cursor struct {
	Key     int64 // start time in Unix nanoseconds, or duration in nanoseconds
	TraceID string
}

// Encode returns the opaque form handed to API clients.
func (c Cursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Key, 10) + ":" + c.TraceID))
}

// DecodeCursor parses an opaque cursor made by Cursor.Encode.
func DecodeCursor(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("%w: %v", ErrInvalidCursor, err)
	}
	key, id, ok := strings.Cut(string(raw), ":")
	if !ok || len(id) != 32 {
		return Cursor{}, ErrInvalidCursor
	}
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return Cursor{}, fmt.Errorf("%w: %v", ErrInvalidCursor, err)
	}
	return Cursor{Key: n, TraceID: id}, nil
}
