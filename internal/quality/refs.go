package quality

import (
	"container/list"
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

// refSet is the references of one key, oldest first. The slice is replaced, never
// modified in place, so a reader may keep it after the lock is released.
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
	next := make([]ref, 0, min(len(set.refs)+1, l.perKey))
	for _, old := range set.refs {
		if r.id == "" || old.id != r.id {
			next = append(next, old)
		}
	}
	next = append(next, r)
	if len(next) > l.perKey {
		next = next[len(next)-l.perKey:]
	}
	set.refs = next
}

// len is the number of keys held.
func (l *refLRU) len() int { return l.order.Len() }
