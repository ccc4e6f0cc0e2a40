package quality

import (
	"container/list"
	"slices"
	"time"
)

// ref is one earlier response kept as a reference: only its fingerprints, never its text.
type ref struct {
	id      string // span identity, so a redelivered span is never its own reference
	hash    uint64 // FNV-1a of the normalized response text
	minhash []uint32
	shape   shape
	length  int // content tokens
	refusal bool
	at      time.Time
}

// refSet is the references of one key, oldest first. No element a reader was given is ever
// written again, so a reader may keep the slice after the lock is released: add only
// appends beyond the end of every slice handed out so far (the backing array has room for
// twice the references kept, and is replaced when full), or builds a new slice.
type refSet struct {
	key  string
	refs []ref
}

// refLRU holds reference sets by key, bounded both ways: at most maxKeys keys (the least
// recently used is evicted) and perKey references per key (the oldest is dropped). It is
// not safe for concurrent use; Scorer serializes access.
type refLRU struct {
	maxKeys, perKey int
	order           *list.List // of *refSet, most recent at the front
	byKey           map[string]*list.Element
}

func newRefLRU(maxKeys, perKey int) *refLRU {
	return &refLRU{maxKeys: maxKeys, perKey: perKey, order: list.New(), byKey: map[string]*list.Element{}}
}

// get returns key's references (possibly nil) and marks the key as recently used.
func (l *refLRU) get(key string) []ref {
	e, ok := l.byKey[key]
	if !ok {
		return nil
	}
	l.order.MoveToFront(e)
	return e.Value.(*refSet).refs
}

// add appends r to key's references, replacing an earlier reference with the same id.
func (l *refLRU) add(key string, r ref) {
	e, ok := l.byKey[key]
	if !ok {
		e = l.order.PushFront(&refSet{key: key})
		l.byKey[key] = e
		for l.order.Len() > l.maxKeys {
			last := l.order.Back()
			l.order.Remove(last)
			delete(l.byKey, last.Value.(*refSet).key)
		}
	} else {
		l.order.MoveToFront(e)
	}
	set := e.Value.(*refSet)
	if r.id != "" && slices.ContainsFunc(set.refs, func(old ref) bool { return old.id == r.id }) {
		// A redelivered span replaces its earlier reference: a new slice without it.
		next := make([]ref, 0, 2*l.perKey)
		for _, old := range set.refs {
			if old.id != r.id {
				next = append(next, old)
			}
		}
		set.refs = append(next, r)
		return
	}
	refs := set.refs
	if len(refs) >= l.perKey {
		refs = refs[len(refs)-l.perKey+1:]
	}
	if len(refs) == cap(refs) {
		refs = append(make([]ref, 0, 2*l.perKey), refs...)
	}
	set.refs = append(refs, r)
}

// len is the number of keys held.
func (l *refLRU) len() int { return l.order.Len() }
