package otlp

import (
	"encoding/hex"

	"google.golang.org/protobuf/encoding/protowire"
)

// traceScan is what scanTraces found in a protobuf ExportTraceServiceRequest.
type traceScan struct {
	spans    int
	traceIDs []string // distinct, in hex, in the order first seen; only when asked for
}

// scanTraces walks a protobuf ExportTraceServiceRequest without decoding it into memory:
// it checks the wire format of every message pdata's decoder reads, counts the spans and,
// when ids is set, collects the distinct trace ids. Decoding into pdata allocated every
// span, attribute and string of a request the receiver then publishes unchanged, and was
// the largest single cost of ingest (about a third of its CPU).
//
// ok reports that the request is one the receiver can publish as received: pdata decodes
// it without error (FuzzScanTraces holds the scan to that), and no span has an all-zero
// trace or span id. When ok is false nothing is known: the caller decodes the request with
// pdata, which gives the precise error or rejects the spans with zero ids. The scan is
// stricter than pdata where strictness costs nothing (groups, the deprecated
// instrumentation_library_spans field, deep nesting all answer false).
func scanTraces(b []byte, ids bool) (s traceScan, ok bool) {
	var seen map[[16]byte]struct{}
	if ids {
		seen = map[[16]byte]struct{}{}
	}
	ok = eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		if num != 1 {
			return true // unknown: skipped, as pdata does
		}
		return typ == protowire.BytesType && scanResourceSpans(v, &s, seen)
	})
	return s, ok
}

func scanResourceSpans(b []byte, s *traceScan, seen map[[16]byte]struct{}) bool {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		switch num {
		case 1:
			return typ == protowire.BytesType && scanResource(v)
		case 2:
			return typ == protowire.BytesType && scanScopeSpans(v, s, seen)
		case 3:
			return typ == protowire.BytesType
		case 1000: // deprecated instrumentation_library_spans: pdata's path handles it
			return false
		}
		return true
	})
}

func scanResource(b []byte) bool {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		switch num {
		case 1:
			return typ == protowire.BytesType && scanKeyValue(v, 0)
		case 2:
			return typ == protowire.VarintType
		case 3: // entity_refs: strings only
			return typ == protowire.BytesType && scanStrings(v)
		}
		return true
	})
}

func scanScopeSpans(b []byte, s *traceScan, seen map[[16]byte]struct{}) bool {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		switch num {
		case 1:
			return typ == protowire.BytesType && scanScope(v)
		case 2:
			if typ != protowire.BytesType || !scanSpan(v, s, seen) {
				return false
			}
			s.spans++
			return true
		case 3:
			return typ == protowire.BytesType
		}
		return true
	})
}

func scanScope(b []byte) bool {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		switch num {
		case 1, 2:
			return typ == protowire.BytesType
		case 3:
			return typ == protowire.BytesType && scanKeyValue(v, 0)
		case 4:
			return typ == protowire.VarintType
		}
		return true
	})
}

// scanSpan checks one Span. Its trace and span ids are the last ones the message carries
// (a repeated scalar field: the last value wins, in pdata as in every protobuf decoder).
func scanSpan(b []byte, s *traceScan, seen map[[16]byte]struct{}) bool {
	var traceID, spanID []byte
	ok := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		switch num {
		case 1:
			traceID = v
			return isID(typ, v, 16)
		case 2:
			spanID = v
			return isID(typ, v, 8)
		case 4:
			return isID(typ, v, 8)
		case 3, 5:
			return typ == protowire.BytesType
		case 16:
			return typ == protowire.Fixed32Type
		case 6, 10, 12, 14:
			return typ == protowire.VarintType
		case 7, 8:
			return typ == protowire.Fixed64Type
		case 9:
			return typ == protowire.BytesType && scanKeyValue(v, 0)
		case 11:
			return typ == protowire.BytesType && scanEvent(v)
		case 13:
			return typ == protowire.BytesType && scanLink(v)
		case 15:
			return typ == protowire.BytesType && scanStatus(v)
		}
		return true
	})
	if !ok || isZero(traceID) || isZero(spanID) {
		return false
	}
	if seen != nil {
		id := [16]byte(traceID)
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			s.traceIDs = append(s.traceIDs, hex.EncodeToString(traceID))
		}
	}
	return true
}

func scanEvent(b []byte) bool {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		switch num {
		case 1:
			return typ == protowire.Fixed64Type
		case 2:
			return typ == protowire.BytesType
		case 3:
			return typ == protowire.BytesType && scanKeyValue(v, 0)
		case 4:
			return typ == protowire.VarintType
		}
		return true
	})
}

func scanLink(b []byte) bool {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		switch num {
		case 1:
			return isID(typ, v, 16)
		case 2:
			return isID(typ, v, 8)
		case 3:
			return typ == protowire.BytesType
		case 4:
			return typ == protowire.BytesType && scanKeyValue(v, 0)
		case 5:
			return typ == protowire.VarintType
		case 6:
			return typ == protowire.Fixed32Type
		}
		return true
	})
}

func scanStatus(b []byte) bool {
	return eachField(b, func(num protowire.Number, typ protowire.Type, _ []byte) bool {
		switch num {
		case 2:
			return typ == protowire.BytesType
		case 3:
			return typ == protowire.VarintType
		}
		return true
	})
}

// maxScanDepth bounds the nesting of attribute values the scan follows; deeper values go
// to pdata, whose own limit (100) then applies.
const maxScanDepth = 32

// scanKeyValue checks a KeyValue; depth counts the KeyValue, AnyValue, ArrayValue and
// KeyValueList messages around it, as pdata's recursion limit does.
func scanKeyValue(b []byte, depth int) bool {
	if depth >= maxScanDepth {
		return false
	}
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		switch num {
		case 1:
			return typ == protowire.BytesType
		case 2:
			return typ == protowire.BytesType && scanAnyValue(v, depth+1)
		case 3:
			return typ == protowire.VarintType
		}
		return true
	})
}

func scanAnyValue(b []byte, depth int) bool {
	if depth >= maxScanDepth {
		return false
	}
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		switch num {
		case 1, 7:
			return typ == protowire.BytesType
		case 2, 3, 8:
			return typ == protowire.VarintType
		case 4:
			return typ == protowire.Fixed64Type
		case 5: // ArrayValue: AnyValues
			return typ == protowire.BytesType && scanValues(v, depth+1, scanAnyValue)
		case 6: // KeyValueList: KeyValues
			return typ == protowire.BytesType && scanValues(v, depth+1, scanKeyValue)
		}
		return true
	})
}

// scanValues checks an ArrayValue or a KeyValueList: field 1 repeats the element.
func scanValues(b []byte, depth int, elem func([]byte, int) bool) bool {
	if depth >= maxScanDepth {
		return false
	}
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		if num != 1 {
			return true
		}
		return typ == protowire.BytesType && elem(v, depth+1)
	})
}

// scanStrings checks a message whose known fields are all strings (EntityRef).
func scanStrings(b []byte) bool {
	return eachField(b, func(num protowire.Number, typ protowire.Type, _ []byte) bool {
		return num > 4 || typ == protowire.BytesType
	})
}

// eachField calls fn for every field of the message b, with the field's bytes for a
// length-delimited field (nil otherwise), and stops at the first false. It reports false
// for malformed input and for groups, which pdata skips but the scan does not follow.
func eachField(b []byte, fn func(protowire.Number, protowire.Type, []byte) bool) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		var v []byte
		switch typ {
		case protowire.VarintType:
			_, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			_, n = protowire.ConsumeFixed32(b)
		case protowire.Fixed64Type:
			_, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			return false
		}
		if n < 0 || !fn(num, typ, v) {
			return false
		}
		b = b[n:]
	}
	return true
}

// isID reports whether a field is a trace or span id as pdata accepts it: size bytes, or
// none.
func isID(typ protowire.Type, v []byte, size int) bool {
	return typ == protowire.BytesType && (len(v) == 0 || len(v) == size)
}

func isZero(id []byte) bool {
	for _, c := range id {
		if c != 0 {
			return false
		}
	}
	return true
}
