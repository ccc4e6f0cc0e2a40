package store

import (
	"context"
	"time"
)

// EndUserReader groups trace rollups by the GenAI user id (user.id, gen_ai.user.id…): the
// people or accounts an application serves. An end user is not a dashboard User.
type EndUserReader interface {
	// EndUsers lists the end users of q.ProjectID that have a trace started in
	// [Since, Until), most recently active first (LastSeen, then user id, both descending),
	// one keyset page at a time. Traces without a user id are left out; the totals count
	// the traces of the window only.
	EndUsers(ctx context.Context, q EndUserQuery) (EndUserPage, error)
}

// EndUserQuery selects end users of one project; zero fields do not filter. Since and Until
// (exclusive) bound the traces' start time.
type EndUserQuery struct {
	ProjectID string
	Since     time.Time
	Until     time.Time
	Limit     int    // 1..1000; backends treat 0 as 50
	Cursor    string // NextCursor of the previous page
}

// EndUserPage is one page of end users; NextCursor is empty on the last page.
type EndUserPage struct {
	Users      []EndUser
	NextCursor string
}

// EndUser is the totals of the traces of one user id.
type EndUser struct {
	UserID        string
	Traces        int64
	Sessions      int64 // distinct non-empty session ids
	Errors        int64 // traces with status error
	TotalTokens   int64
	CostUSD       float64 // the priced part; UnpricedCalls says what is missing
	UnpricedCalls int64
	FirstSeen     time.Time // the earliest trace start
	LastSeen      time.Time // the latest trace start
}

// EndUserCursor is a keyset position in an end-user listing: the last one's LastSeen and its
// user id, which breaks ties. Its encoding is ConversationCursor's.
type EndUserCursor struct {
	LastSeen int64 // Unix nanoseconds
	UserID   string
}

// Encode returns the opaque form handed to clients.
func (c EndUserCursor) Encode() string {
	return ConversationCursor{LastSeen: c.LastSeen, SessionID: c.UserID}.Encode()
}

// DecodeEndUserCursor parses a cursor made by EndUserCursor.Encode.
func DecodeEndUserCursor(s string) (EndUserCursor, error) {
	c, err := DecodeConversationCursor(s)
	if err != nil {
		return EndUserCursor{}, err
	}
	return EndUserCursor{LastSeen: c.LastSeen, UserID: c.SessionID}, nil
}
