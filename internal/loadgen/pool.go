package loadgen

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// template is one marshalled ExportTraceServiceRequest and where its trace ids and span
// times sit in the bytes, so a copy can be given fresh ids and the current time without
// marshalling again.
type template struct {
	body    []byte
	offsets [][]int // per trace: byte offsets of every occurrence of its id
	spans   []int   // per trace: number of spans
	isJSON  bool
	built   time.Time  // the time the spans' timestamps were drawn around
	times   []spanTime // every span's start and end time
}

// spanTime is a span time in a template's body: its byte offset and value (ns since 1970).
type spanTime struct {
	at int
	ns uint64
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
		t := template{body: body, isJSON: isJSON, spans: traceSizes(cfg.SpansPerRequest, cfg.SpansPerTrace), built: now}
		t.offsets = findIDs(body, ids, isJSON)
		for i := range ids {
			if len(t.offsets[i]) != t.spans[i] {
				return nil, fmt.Errorf("locate trace id %d of request template %d: found %d occurrences, want %d", i, v, len(t.offsets[i]), t.spans[i])
			}
		}
		t.times = findTimes(body, now, isJSON)
		if len(t.times) != 2*cfg.SpansPerRequest {
			return nil, fmt.Errorf("locate span times of request template %d: found %d, want %d", v, len(t.times), 2*cfg.SpansPerRequest)
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

// timeWindow bounds how far from the build time a span time may be for findTimes: the
// builder draws them within seconds of it.
const timeWindow = time.Minute

// findTimes returns every span's start_time_unix_nano and end_time_unix_nano in body, a
// request built around built. In protobuf each is the field
// tag (0x39 or 0x41, fixed64) and 8 little-endian bytes; in OTLP/JSON a 19-digit string
// after "startTimeUnixNano":" or "endTimeUnixNano":". A tag byte in message text followed
// by 8 bytes that read as a time within timeWindow of built does not occur by chance, and
// buildPool checks the count.
func findTimes(body []byte, built time.Time, isJSON bool) []spanTime {
	lo, hi := uint64(built.Add(-timeWindow).UnixNano()), uint64(built.Add(timeWindow).UnixNano())
	var times []spanTime
	if isJSON {
		for _, key := range []string{`"startTimeUnixNano":"`, `"endTimeUnixNano":"`} {
			for from := 0; ; {
				i := bytes.Index(body[from:], []byte(key))
				if i < 0 {
					break
				}
				at := from + i + len(key)
				if v, err := strconv.ParseUint(string(body[at:min(at+19, len(body))]), 10, 64); err == nil && v >= lo && v <= hi {
					times = append(times, spanTime{at, v})
				}
				from = at
			}
		}
		return times
	}
	for i := 0; i+9 <= len(body); i++ {
		if body[i] != 0x39 && body[i] != 0x41 {
			continue
		}
		if v := binary.LittleEndian.Uint64(body[i+1:]); v >= lo && v <= hi {
			times = append(times, spanTime{i + 1, v})
			i += 8
		}
	}
	return times
}

// instance copies t's body into buf (which must have its length), gives the copy new random
// trace ids, written into ids (one entry per trace of t), and moves its span times by
// now − t.built, so every request carries current times, as live traffic does: a store's
// time-ordered indexes then grow at their end, not all over the few seconds the templates
// were built in.
func (t *template) instance(buf []byte, idRNG *rand.Rand, ids [][16]byte, now time.Time) []byte {
	copy(buf, t.body)
	shift := now.Sub(t.built).Nanoseconds()
	for _, st := range t.times {
		ns := uint64(int64(st.ns) + shift)
		if t.isJSON {
			strconv.AppendUint(buf[st.at:st.at], ns, 10) // 19 digits, as before, until 2286
		} else {
			binary.LittleEndian.PutUint64(buf[st.at:], ns)
		}
	}
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
