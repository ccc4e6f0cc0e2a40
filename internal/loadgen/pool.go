package loadgen

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// template is one marshalled ExportTraceServiceRequest and where its trace ids sit in the
// bytes, so a copy can be given fresh ids without marshalling again.
type template struct {
	body    []byte
	offsets [][]int // per trace: byte offsets of every occurrence of its id
	spans   []int   // per trace: number of spans
	isJSON  bool
}

// pool holds the templates of a run. It is read-only once built and safe for concurrent use.
type pool struct {
	templates []template
}

// buildPool marshals cfg.PoolSize distinct requests. idRNG provides the placeholder ids;
// they are overwritten on every send.
func buildPool(cfg Config, idRNG *rand.Rand, runID string, now time.Time) (*pool, error) {
	b := newBuilder(cfg, idRNG, runID, now)
	p := &pool{templates: make([]template, cfg.PoolSize)}
	isJSON := cfg.Protocol == ProtocolHTTPJSON
	for v := range p.templates {
		td, ids := b.template(v)
		req := ptraceotlp.NewExportRequestFromTraces(td)
		var body []byte
		var err error
		if isJSON {
			body, err = req.MarshalJSON()
		} else {
			body, err = req.MarshalProto()
		}
		if err != nil {
			return nil, fmt.Errorf("marshal request template %d: %w", v, err)
		}
		t := template{body: body, isJSON: isJSON, spans: traceSizes(cfg.SpansPerRequest, cfg.SpansPerTrace)}
		t.offsets = findIDs(body, ids, isJSON)
		for i := range ids {
			if len(t.offsets[i]) != t.spans[i] {
				return nil, fmt.Errorf("locate trace id %d of request template %d: found %d occurrences, want %d", i, v, len(t.offsets[i]), t.spans[i])
			}
		}
		p.templates[v] = t
	}
	return p, nil
}

// findIDs returns, for each of ids, the offsets of its occurrences in body, in one pass:
// in protobuf every Span.trace_id is the field tag 0x0a, the length 0x10 and the 16 raw
// bytes; in OTLP/JSON it is "traceId":"<32 hex digits>". A random 128-bit id does not
// occur elsewhere by chance; buildPool checks the counts anyway.
func findIDs(body []byte, ids []pcommon.TraceID, isJSON bool) [][]int {
	index := make(map[[16]byte]int, len(ids))
	for i, id := range ids {
		index[id] = i
	}
	offs := make([][]int, len(ids))
	prefix, width := []byte{0x0a, 0x10}, 16
	if isJSON {
		prefix, width = []byte(`"traceId":"`), 32
	}
	for from := 0; ; {
		i := bytes.Index(body[from:], prefix)
		if i < 0 || from+i+len(prefix)+width > len(body) {
			return offs
		}
		at := from + i + len(prefix)
		var id [16]byte
		ok := true
		if isJSON {
			_, err := hex.Decode(id[:], body[at:at+width])
			ok = err == nil
		} else {
			copy(id[:], body[at:at+width])
		}
		if n, found := index[id]; ok && found {
			offs[n] = append(offs[n], at)
			from = at + width
		} else {
			from += i + 1
		}
	}
}

// instance returns a fresh copy of t's body with new random trace ids, written into ids
// (which must have one entry per trace of t).
func (t *template) instance(idRNG *rand.Rand, ids [][16]byte) []byte {
	buf := bytes.Clone(t.body)
	for i, offs := range t.offsets {
		var id [16]byte
		for id == ([16]byte{}) {
			putUint64s(id[:], idRNG.Uint64(), idRNG.Uint64())
		}
		ids[i] = id
		for _, o := range offs {
			if t.isJSON {
				hex.Encode(buf[o:o+32], id[:])
			} else {
				copy(buf[o:o+16], id[:])
			}
		}
	}
	return buf
}
