package loadgen

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

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
		for i, id := range ids {
			offs := findID(body, id, isJSON)
			if len(offs) != t.spans[i] {
				return nil, fmt.Errorf("locate trace id %d of request template %d: found %d occurrences, want %d", i, v, len(offs), t.spans[i])
			}
			t.offsets = append(t.offsets, offs)
		}
		p.templates[v] = t
	}
	return p, nil
}

// findID returns the offsets of every occurrence of id in body: the raw 16 bytes in
// protobuf, the quoted lower-case hex string in OTLP/JSON. Random 128-bit ids do not occur
// by chance elsewhere in a request; buildPool checks the count anyway.
func findID(body []byte, id [16]byte, isJSON bool) []int {
	needle, skip := id[:], 0
	if isJSON {
		needle = []byte(`"` + hex.EncodeToString(id[:]) + `"`)
		skip = 1
	}
	var offs []int
	for from := 0; ; {
		i := bytes.Index(body[from:], needle)
		if i < 0 {
			return offs
		}
		offs = append(offs, from+i+skip)
		from += i + len(needle)
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
