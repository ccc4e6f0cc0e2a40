package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// Element type OIDs of the binary arrays the write statements take.
const (
	oidBool   = 16
	oidInt8   = 20
	oidText   = 25
	oidJSON   = 114
	oidFloat8 = 701
	oidJSONB  = 3802
)

// arrayParams builds the binary-format array parameters of one statement in a single
// buffer sized up front. A batch's span parameters are megabytes; pgx's general encoder
// grows its buffer from a few hundred bytes for every statement, which costs as much CPU
// as encoding the JSON in the first place.
type arrayParams struct {
	buf    []byte
	params [][]byte
}

func newArrayParams(size int) *arrayParams {
	return &arrayParams{buf: make([]byte, 0, size)}
}

// header starts a one-dimensional array of n elements of type oid.
func (p *arrayParams) header(oid uint32, n int, hasNull bool) {
	p.buf = binary.BigEndian.AppendUint32(p.buf, 1) // dimensions
	null := uint32(0)
	if hasNull {
		null = 1
	}
	p.buf = binary.BigEndian.AppendUint32(p.buf, null)
	p.buf = binary.BigEndian.AppendUint32(p.buf, oid)
	p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(n))
	p.buf = binary.BigEndian.AppendUint32(p.buf, 1) // lower bound
}

// done records the parameter written since start.
func (p *arrayParams) done(start int) {
	p.params = append(p.params, p.buf[start:len(p.buf):len(p.buf)])
}

func (p *arrayParams) texts(v []string) {
	start := len(p.buf)
	p.header(oidText, len(v), false)
	for _, s := range v {
		p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(len(s)))
		p.buf = append(p.buf, s...)
	}
	p.done(start)
}

func (p *arrayParams) int8s(v []int64) {
	start := len(p.buf)
	p.header(oidInt8, len(v), false)
	for _, n := range v {
		p.buf = binary.BigEndian.AppendUint32(p.buf, 8)
		p.buf = binary.BigEndian.AppendUint64(p.buf, uint64(n))
	}
	p.done(start)
}

func (p *arrayParams) bools(v []bool) {
	start := len(p.buf)
	p.header(oidBool, len(v), false)
	for _, b := range v {
		p.buf = binary.BigEndian.AppendUint32(p.buf, 1)
		if b {
			p.buf = append(p.buf, 1)
		} else {
			p.buf = append(p.buf, 0)
		}
	}
	p.done(start)
}

// float8s writes nil elements as NULL.
func (p *arrayParams) float8s(v []*float64) {
	start := len(p.buf)
	hasNull := false
	for _, f := range v {
		hasNull = hasNull || f == nil
	}
	p.header(oidFloat8, len(v), hasNull)
	for _, f := range v {
		if f == nil {
			p.buf = binary.BigEndian.AppendUint32(p.buf, math.MaxUint32) // -1: NULL
			continue
		}
		p.buf = binary.BigEndian.AppendUint32(p.buf, 8)
		p.buf = binary.BigEndian.AppendUint64(p.buf, math.Float64bits(*f))
	}
	p.done(start)
}

// docs writes encoded documents as json (oidJSON), jsonb (oidJSONB, from JSON text) or
// tsvector (oidTSVector, already in the binary format) elements; nil elements are NULL.
func (p *arrayParams) docs(oid uint32, v [][]byte) {
	start := len(p.buf)
	hasNull := false
	for _, d := range v {
		hasNull = hasNull || d == nil
	}
	p.header(oid, len(v), hasNull)
	for _, d := range v {
		if d == nil {
			p.buf = binary.BigEndian.AppendUint32(p.buf, math.MaxUint32)
			continue
		}
		if oid == oidJSONB {
			p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(len(d)+1))
			p.buf = append(p.buf, 1) // jsonb binary format version
		} else {
			p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(len(d)))
		}
		p.buf = append(p.buf, d...)
	}
	p.done(start)
}

// docsSize is the buffer space docs needs for v.
func docsSize(v [][]byte) int {
	n := 20
	for _, d := range v {
		n += 5 + len(d)
	}
	return n
}

// textsSize is the buffer space texts needs for v.
func textsSize(v []string) int {
	n := 20
	for _, s := range v {
		n += 4 + len(s)
	}
	return n
}

// execArrays runs sql, prepared once per connection under name, with binary parameters.
func execArrays(ctx context.Context, tx pgx.Tx, name, sql string, p *arrayParams) error {
	conn := tx.Conn()
	sd, err := conn.Prepare(ctx, name, sql)
	if err != nil {
		return fmt.Errorf("prepare %s: %w", name, err)
	}
	if len(sd.ParamOIDs) != len(p.params) {
		return fmt.Errorf("%s takes %d parameters, got %d", name, len(sd.ParamOIDs), len(p.params))
	}
	formats := make([]int16, len(p.params))
	for i := range formats {
		formats[i] = 1 // binary
	}
	_, err = conn.PgConn().ExecPrepared(ctx, sd.Name, p.params, formats, nil).Close()
	return err
}

// binder returns a statement's arg function: it appends a value to args and returns the
// value's placeholder ($1, $2, …).
func binder(args *[]any) func(v any) string {
	return func(v any) string {
		*args = append(*args, v)
		return "$" + strconv.Itoa(len(*args))
	}
}
