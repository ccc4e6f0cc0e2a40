package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ConversationReader groups trace rollups into conversations: the traces that share a GenAI
// session id (session.id, gen_ai.conversation.id…). A conversation is not a dashboard login
// Session.
type ConversationReader interface {
	// Conversations lists the conversations of q.ProjectID that have a trace started in
	// [Since, Until), most recently active first (LastSeen, then session id, both
	// descending), one keyset page at a time. Traces without a session id are left out; the
	// totals count the traces of the window only.
	Conversations(ctx context.Context, q ConversationQuery) (ConversationPage, error)
}

// ConversationQuery selects conversations of one project; zero fields do not filter. Since and Until
// (exclusive) bound the traces' start time.
type ConversationQuery struct {
	ProjectID string
	UserID    string // only traces of this user
	Since     time.Time
	Until     time.Time
	Limit     int    // 1..1000; backends treat 0 as 50
	Cursor    string // NextCursor of the previous page
}

// ConversationPage is one page of conversations; NextCursor is empty on the last page.
type ConversationPage struct {
	Conversations []Conversation
	NextCursor    string
}

// Conversation is the totals of the traces that share one session id.
type Conversation struct {
	SessionID string
	// UserID is the greatest user id of the conversation's traces (one in practice); Users
	// counts the distinct non-empty ones.
	UserID        string
	Users         int64
	Traces        int64
	Errors        int64 // traces with status error
	TotalTokens   int64
	CostUSD       float64 // the priced part; UnpricedCalls says what is missing
	UnpricedCalls int64
	FirstSeen     time.Time // the earliest trace start
	LastSeen      time.Time // the latest trace start
}

// ConversationCursor is a keyset position in a conversation listing: the last one's LastSeen
// and its session id, which breaks ties.
type ConversationCursor struct {
	LastSeen  int64 // Unix nanoseconds
	SessionID string
}

// Encode returns the opaque form handed to clients.
func (c ConversationCursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.LastSeen, 10) + ":" + c.SessionID))
}

// DecodeConversationCursor parses a cursor made by ConversationCursor.Encode.
func DecodeConversationCursor(s string) (ConversationCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return ConversationCursor{}, fmt.Errorf("%w: %v", ErrInvalidCursor, err)
	}
	key, id, ok := strings.Cut(string(raw), ":")
	if !ok || id == "" {
		return ConversationCursor{}, ErrInvalidCursor
	}
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return ConversationCursor{}, fmt.Errorf("%w: %v", ErrInvalidCursor, err)
	}
	return ConversationCursor{LastSeen: n, SessionID: id}, nil
}
