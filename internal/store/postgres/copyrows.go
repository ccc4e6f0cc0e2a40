package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"

	"github.com/jackc/pgx/v5"
)

// copySpansSQL loads spanRows.copyData into spans.
const copySpansSQL = "COPY spans (" + spanColumns + ") FROM STDIN (FORMAT binary)"

// spanColumnCount is the number of spanColumns.
const spanColumnCount = 43

// copySpans inserts rows with COPY, for spans of traces that had no row (see
// insertSpansSQL). COPY streams the rows in 64 KB messages straight into the partitions:
// INSERT … unnest sends one multi-megabyte Bind message, which pgx grows by doubling for
// every statement (measured ~30 % of the client's CPU per span), and the server unpacks 42
// arrays into a tuplestore before inserting.
func copySpans(ctx context.Context, tx pgx.Tx, rows *spanRows) error {
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(rows.copyData()), copySpansSQL)
	return err
}

// copyData encodes the rows in PostgreSQL's binary COPY format, in spanColumns order, in
// one buffer sized up front.
func (r *spanRows) copyData() []byte {
	n := len(r.projectID)
	size := 21 + n*(2+spanColumnCount*4+11*8+8+2+2)
	for _, t := range [][]string{r.projectID, r.traceID, r.spanID, r.parentSpanID, r.name,
		r.serviceName, r.statusCode, r.kind, r.traceState, r.statusMessage, r.scopeName,
		r.scopeVersion, r.resourceSchemaURL, r.scopeSchemaURL, r.genaiType, r.operation,
		r.provider, r.model, r.sessionID, r.userID, r.environment, r.costSource} {
		size += textsSize(t)
	}
	for _, d := range [][][]byte{r.tags, r.attributes, r.resource, r.events, r.links, r.call, r.searchVec} {
		size += docsSize(d)
	}
	b := make([]byte, 0, size)
	b = append(b, "PGCOPY\n\xff\r\n\x00"...)
	b = binary.BigEndian.AppendUint32(b, 0) // flags
	b = binary.BigEndian.AppendUint32(b, 0) // header extension length
	text := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	bigint := func(v int64) {
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	boolean := func(v bool) {
		b = binary.BigEndian.AppendUint32(b, 1)
		if v {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	doc := func(d []byte, jsonb bool) {
		switch {
		case d == nil:
			b = binary.BigEndian.AppendUint32(b, math.MaxUint32) // -1: NULL
		case jsonb:
			b = binary.BigEndian.AppendUint32(b, uint32(len(d)+1))
			b = append(b, 1) // jsonb binary format version
			b = append(b, d...)
		default:
			b = binary.BigEndian.AppendUint32(b, uint32(len(d)))
			b = append(b, d...)
		}
	}
	for i := range n {
		b = binary.BigEndian.AppendUint16(b, spanColumnCount)
		text(r.projectID[i])
		text(r.traceID[i])
		text(r.spanID[i])
		for _, v := range [...]int64{r.startNS[i], r.endNS[i], r.droppedAttrs[i], r.droppedEvents[i],
			r.droppedLinks[i], r.inputTokens[i], r.outputTokens[i], r.cacheReadTokens[i],
			r.cacheWriteTokens[i], r.reasoningTokens[i], r.totalTokens[i]} {
			bigint(v)
		}
		if f := r.costUSD[i]; f != nil {
			b = binary.BigEndian.AppendUint32(b, 8)
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(*f))
		} else {
			b = binary.BigEndian.AppendUint32(b, math.MaxUint32)
		}
		boolean(r.usageReported[i])
		boolean(r.counted[i])
		for _, s := range [...]string{r.parentSpanID[i], r.name[i], r.serviceName[i], r.statusCode[i],
			r.kind[i], r.traceState[i], r.statusMessage[i], r.scopeName[i], r.scopeVersion[i],
			r.resourceSchemaURL[i], r.scopeSchemaURL[i], r.genaiType[i], r.operation[i],
			r.provider[i], r.model[i], r.sessionID[i], r.userID[i], r.environment[i], r.costSource[i]} {
			text(s)
		}
		doc(r.tags[i], false)
		doc(r.attributes[i], true)
		doc(r.resource[i], true)
		doc(r.events[i], false)
		doc(r.links[i], false)
		doc(r.call[i], false)
		doc(r.searchVec[i], false)
	}
	return binary.BigEndian.AppendUint16(b, math.MaxUint16) // -1: end of data
}
