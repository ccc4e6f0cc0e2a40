package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// The full-text index (span_text, FTS5) lives in a database file of its own beside the
// main one (searchPath), written by the indexer's own connection. In the main file its
// segment flushes and merges ran inside the span writes, tens of milliseconds at a time,
// and every batch behind them waited: the alert on the next batch too (BENCHMARKS.md,
// issue 6). SQLite locks each file on its own, so the two writers do not wait for each
// other.
//
// The span writes queue what the index must learn in span_text_queue, in their own
// transaction, so the queue holds every change in commit order and a crash loses none. A
// row names the span and whether its document goes; not the text, which the write hands to
// the indexer in memory once it commits (handoff), and which the indexer otherwise reads
// from the stored span (after a restart, say). The indexer applies the queue in id order,
// in batches, each in one transaction of the search database that also records the last
// id it applied (index_state). The span writer deletes the applied rows in its next
// transaction. A search waits for the rows queued before it began (waitIndexed), so it
// sees every span stored before it.
//
// The search database only ever holds what the queue and the spans can rebuild. Open
// rebuilds it when it is missing, or when it does not follow the main file's queue (the
// main file restored from a backup without it, say): it queues every stored LLM span.

// searchPath is the search database's file beside the database at path: lumina.db's is
// lumina.search.db.
func searchPath(path string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + ".search" + ext
}

const (
	// indexBatch is how many queue rows one indexer transaction applies at most.
	indexBatch = 1024
	// indexTick is how often the indexer looks at the queue without being woken: deletes
	// by retention queue rows through a trigger, not through Write.
	indexTick = time.Second
	// searchWait bounds how long a search waits for the index to catch up, and
	// searchWaitBacklog is the backlog (queue rows) beyond which it does not wait at all:
	// during a rebuild searches see what is indexed so far.
	searchWait        = 2 * time.Second
	searchWaitBacklog = 10_000
)

// lastQueuedSQL reads the id of the last row ever queued (0 before the first): AUTOINCREMENT
// keeps it in sqlite_sequence once the rows are deleted.
const lastQueuedSQL = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'span_text_queue'), 0)"

// searchSchema is the search database's schema. One document per LLM span that has
// content: store.SearchText of its call (lower-cased words, at most 16 KiB), keyed by the
// span's rowid in the main file. Contentless: the text is already in spans.genai, so the
// index holds only the tokens; contentless_delete lets a rewrite replace a document and a
// deleted span remove its own. unicode61 without diacritic folding, to tokenize as
// PostgreSQL's 'simple' configuration does. Leaves of up to 16,000 bytes instead of
// FTS5's default 4,050: the words of LLM prompts repeat across spans, so their doclists
// are long, and in 4 KB leaves each is many rows of span_text_data that every merge
// rewrites (BenchmarkWrite at 300,000 spans: 2,352 spans/s with the default, 5,925 with
// 16,000-byte leaves, when the index was written with the spans).
const searchSchema = `
CREATE VIRTUAL TABLE span_text USING fts5 (
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO span_text (span_text, rank) VALUES ('pgsz', 16000);
-- applied is the id of the last span_text_queue row in the index.
CREATE TABLE index_state (applied INTEGER NOT NULL);`

// indexer applies span_text_queue to the search database. It is owned by the Store and
// stopped by Close.
type indexer struct {
	db     *sql.DB // the search database: one connection
	main   *sql.DB // the main database's read pool: the queue and the spans
	logger *slog.Logger
	wakeC  chan struct{}
	stopC  chan struct{}
	doneC  chan struct{}
	// stopOnce makes stop safe to call twice (a test stops the indexer before Close).
	stopOnce sync.Once

	mu        sync.Mutex
	applied   int64         // index_state.applied as last committed
	progress  chan struct{} // closed, and replaced, when applied moves
	held      []handoff     // the texts of queued rows, from the writes that queued them
	heldBytes int
	readBack  int64 // texts read from the spans, for want of a handoff
}

// handoff is the texts of a write's queue rows, whose ids run from first, handed to the
// indexer once the write commits: with them it need not read the texts back from the
// spans. A removal's text is "".
type handoff struct {
	first int64
	texts []string
}

// heldBytesMax bounds the texts the indexer holds; past it, as when the index falls far
// behind, it reads them from the spans.
const heldBytesMax = 64 << 20

// openIndexer opens the search database of the database at path, rebuilds it when it
// does not follow w's queue, and starts the indexer. w is the main database's writer, r
// its read pool.
func openIndexer(ctx context.Context, path string, w, r *sql.DB, o options, logger *slog.Logger) (*indexer, error) {
	db, err := openDB(searchPath(path), roleIndexer, o)
	if err != nil {
		return nil, err
	}
	ix := &indexer{db: db, main: r, logger: logger, wakeC: make(chan struct{}, 1),
		stopC: make(chan struct{}), doneC: make(chan struct{}), progress: make(chan struct{})}
	if ix.applied, err = ix.open(ctx, w); err != nil {
		db.Close()
		return nil, fmt.Errorf("search index %q: %w", searchPath(path), err)
	}
	go ix.run()
	return ix, nil
}

// open returns the queue id the index has applied, after rebuilding the index if it does
// not follow w's queue.
func (ix *indexer) open(ctx context.Context, w *sql.DB) (int64, error) {
	// The queue holds the ids (min - 1, seq]: lower ones were applied and deleted. An index
	// that applied fewer missed some; one that applied more is ahead of this main file.
	var seq, low sql.NullInt64
	if err := w.QueryRowContext(ctx, `SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'span_text_queue'),
		(SELECT min(id) - 1 FROM span_text_queue)`).Scan(&seq, &low); err != nil {
		return 0, fmt.Errorf("read the queue: %w", err)
	}
	if !low.Valid {
		low = seq
	}
	var applied int64
	err := ix.db.QueryRowContext(ctx, "SELECT applied FROM index_state").Scan(&applied)
	switch {
	case err == nil && applied >= low.Int64 && applied <= seq.Int64:
		return applied, nil
	case err == nil:
		ix.logger.Warn("search index does not follow the database; rebuilding it",
			"applied", applied, "queue_from", low.Int64, "queue_to", seq.Int64)
	case !isNoSuchTable(err):
		return 0, fmt.Errorf("read index state: %w", err)
	}
	return ix.rebuild(ctx, w)
}

// rebuild empties the index and queues every stored LLM span, in that order: a crash in
// between leaves no index_state, so the next Open rebuilds again.
func (ix *indexer) rebuild(ctx context.Context, w *sql.DB) (int64, error) {
	if _, err := ix.db.ExecContext(ctx, "DROP TABLE IF EXISTS index_state; DROP TABLE IF EXISTS span_text"); err != nil {
		return 0, fmt.Errorf("drop the index: %w", err)
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var from int64
	if err := tx.QueryRowContext(ctx, lastQueuedSQL).Scan(&from); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO span_text_queue (span) SELECT rowid FROM spans WHERE genai_type = 'llm'")
	if err != nil {
		return 0, fmt.Errorf("queue the stored spans: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	queued, _ := res.RowsAffected()
	if err := ix.create(ctx, from); err != nil {
		return 0, fmt.Errorf("create the index: %w", err)
	}
	ix.logger.Info("search index created", "spans_queued", queued)
	return from, nil
}

// create makes the index's tables, empty, with applied set to from.
func (ix *indexer) create(ctx context.Context, from int64) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, searchSchema); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO index_state VALUES (?)", from); err != nil {
		return err
	}
	return tx.Commit()
}

func isNoSuchTable(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}

// hand gives the indexer a committed write's texts, and wakes it.
func (ix *indexer) hand(h handoff) {
	if len(h.texts) > 0 {
		n := 0
		for _, t := range h.texts {
			n += len(t)
		}
		ix.mu.Lock()
		if ix.heldBytes+n <= heldBytesMax && h.first > ix.applied {
			ix.held = append(ix.held, h)
			ix.heldBytes += n
		}
		ix.mu.Unlock()
	}
	ix.wake()
}

// heldText is the text a write handed over for queue row id.
func (ix *indexer) heldText(id int64) (string, bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, h := range ix.held {
		if id >= h.first && id < h.first+int64(len(h.texts)) {
			return h.texts[id-h.first], true
		}
	}
	return "", false
}

// readBackCount is how many texts the indexer has read from the spans.
func (ix *indexer) readBackCount() int64 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.readBack
}

// wake tells the indexer that rows were queued.
func (ix *indexer) wake() {
	select {
	case ix.wakeC <- struct{}{}:
	default:
	}
}

// appliedID is the id of the last queue row in the index.
func (ix *indexer) appliedID() int64 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.applied
}

func (ix *indexer) run() {
	defer close(ix.doneC)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-ix.stopC:
			cancel()
		case <-ix.doneC:
		}
	}()
	tick := time.NewTicker(indexTick)
	defer tick.Stop()
	for {
		n, err := ix.pass(ctx)
		wake := ix.wakeC
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			ix.logger.Error("search index: apply the queue", "err", err)
			wake = nil // retry on the tick, not on every write
		case n == indexBatch:
			continue // more is queued
		}
		select {
		case <-ix.stopC:
			return
		case <-wake:
		case <-tick.C:
		}
	}
}

// pass applies up to indexBatch queue rows after the applied id in one transaction, and
// reports how many.
func (ix *indexer) pass(ctx context.Context) (int, error) {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	// Read under the search database's write lock: another process indexing the same files
	// waits here, and then starts where this one stopped.
	var applied int64
	if err := tx.QueryRowContext(ctx, "SELECT applied FROM index_state").Scan(&applied); err != nil {
		return 0, fmt.Errorf("read index state: %w", err)
	}
	rows, err := ix.main.QueryContext(ctx, "SELECT id, span, body FROM span_text_queue WHERE id > ? ORDER BY id LIMIT ?", applied, indexBatch)
	if err != nil {
		return 0, fmt.Errorf("read the queue: %w", err)
	}
	// A span queued more than once takes its last row.
	type row struct {
		id   int64
		body sql.NullString
	}
	docs := make(map[int64]row)
	n, last := 0, applied
	for rows.Next() {
		var span int64
		var body sql.NullString
		if err := rows.Scan(&last, &span, &body); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read the queue: %w", err)
		}
		docs[span] = row{last, body}
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read the queue: %w", err)
	}
	if n == 0 {
		ix.publish(applied)
		return 0, nil
	}
	var put [][2]any
	var del []int64
	for span, r := range docs {
		text, held := r.body.String, r.body.Valid
		if !held {
			text, held = ix.heldText(r.id)
		}
		if !held {
			if text, err = ix.storedText(ctx, span); err != nil {
				return 0, err
			}
		}
		if text == "" {
			del = append(del, span)
		} else {
			put = append(put, [2]any{span, text})
		}
	}
	enc := newEncoder()
	apply := func(query string, rows any) error {
		arg, err := enc.text(rows)
		if err != nil {
			return fmt.Errorf("encode search text: %w", err)
		}
		if _, err := tx.ExecContext(ctx, query, arg); err != nil {
			return fmt.Errorf("index search text: %w", err)
		}
		return nil
	}
	if len(del) > 0 {
		if err := apply("DELETE FROM span_text WHERE rowid IN (SELECT value FROM json_each(?))", del); err != nil {
			return 0, err
		}
	}
	if len(put) > 0 {
		if err := apply("INSERT OR REPLACE INTO span_text (rowid, body) SELECT value->>0, value->>1 FROM json_each(?)", put); err != nil {
			return 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE index_state SET applied = ?", last); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	ix.publish(last)
	return n, nil
}

// storedText is the search text of the stored span with rowid span: "" when it is gone, not
// an LLM call, or its call cannot be decoded (logged: one bad row must not stop the index).
func (ix *indexer) storedText(ctx context.Context, span int64) (string, error) {
	ix.mu.Lock()
	ix.readBack++
	ix.mu.Unlock()
	var call []byte
	err := ix.main.QueryRowContext(ctx, "SELECT genai FROM spans WHERE rowid = ? AND genai_type = 'llm'", span).Scan(&call)
	if errors.Is(err, sql.ErrNoRows) || err == nil && call == nil {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read span %d: %w", span, err)
	}
	var c genai.Call
	if err := decode(call, &c, "genai call"); err != nil {
		ix.logger.Warn("search index: span not indexed", "rowid", span, "err", err)
		return "", nil
	}
	return store.SearchText(&c), nil
}

// publish records that the index holds the queue up to id, drops the texts held for it,
// and wakes the searches waiting.
func (ix *indexer) publish(id int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if id <= ix.applied {
		return
	}
	ix.applied = id
	close(ix.progress)
	ix.progress = make(chan struct{})
	held := ix.held[:0]
	for _, h := range ix.held {
		if h.first+int64(len(h.texts))-1 > id {
			held = append(held, h)
		} else {
			for _, t := range h.texts {
				ix.heldBytes -= len(t)
			}
		}
	}
	clear(ix.held[len(held):])
	ix.held = held
}

// waitFor waits until the index holds the queue up to id, at most searchWait, and not at
// all when more than searchWaitBacklog rows are ahead of it.
func (ix *indexer) waitFor(ctx context.Context, id int64) {
	timer := time.NewTimer(searchWait)
	defer timer.Stop()
	for {
		ix.mu.Lock()
		applied, progress := ix.applied, ix.progress
		ix.mu.Unlock()
		if applied >= id || id-applied > searchWaitBacklog {
			return
		}
		select {
		case <-progress:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// stop stops the indexer after the transaction in flight and closes its database. Calls
// after the first return nil.
func (ix *indexer) stop() error {
	var err error
	ix.stopOnce.Do(func() {
		close(ix.stopC)
		<-ix.doneC
		err = ix.db.Close()
	})
	return err
}
