package limits

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory is an in-process Counter for a single ingest process (embedded mode). With a
// directory it keeps an append-only journal per UTC day there (quota-YYYYMMDD.log, one
// admitted trace per line), written before Admit returns and replayed when the day is first
// used, so a restart keeps today's count; journals of earlier days are removed. The journal
// is not fsynced: it survives a crash of the process (the OS has the write), not of the
// machine, like the embedded queue's default. It is safe for concurrent use.
//
// Unlimited projects (limit 0) are counted in a HyperLogLog sketch instead (16 KiB per
// project, ~0.8 % error): a set would keep every trace id of the day. The sketches are saved
// to quota-YYYYMMDD.hll at most once a second and at Close, so a crash forgets at most the
// last second of an unlimited project's count.
type Memory struct {
	dir string // "" keeps nothing on disk

	mu       sync.Mutex
	day      time.Time
	sets     map[string]map[string]struct{} // project → admitted trace ids of day
	sketches map[string]*hll                // unlimited project → its traces of day
	file     *os.File
	dirty    bool      // sketches changed since they were saved
	savedAt  time.Time // when they were last saved
}

// sketchSaveEvery bounds how often the sketches are written to disk.
const sketchSaveEvery = time.Second

// NewMemory returns an in-process counter journaling to dir, or keeping nothing on disk
// when dir is empty. The directory is created when missing.
func NewMemory(dir string) (*Memory, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create quota directory %q: %w", dir, err)
		}
	}
	return &Memory{dir: dir}, nil
}

// Admit implements Counter.
func (m *Memory) Admit(_ context.Context, project string, day time.Time, limit int64, traceIDs []string) ([]string, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.use(day); err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		return nil, m.admitUncapped(project, traceIDs), nil
	}
	set := m.sets[project]
	if set == nil {
		set = map[string]struct{}{}
		m.sets[project] = set
	}
	var refused, added []string
	for _, id := range traceIDs {
		if _, ok := set[id]; ok {
			continue
		}
		if limit > 0 && int64(len(set)) >= limit {
			refused = append(refused, id)
			continue
		}
		added = append(added, id)
		set[id] = struct{}{}
	}
	if len(added) > 0 && m.file != nil {
		var b strings.Builder
		for _, id := range added {
			b.WriteString(id)
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(project))
			b.WriteByte('\n')
		}
		if _, err := m.file.WriteString(b.String()); err != nil {
			for _, id := range added {
				delete(set, id)
			}
			return nil, 0, fmt.Errorf("journal admitted traces: %w", err)
		}
	}
	return refused, m.count(project), nil
}

// admitUncapped counts traceIDs of an unlimited project in its sketch (ids its set holds
// from earlier in the day, when it had a limit, are already counted) and returns its count.
func (m *Memory) admitUncapped(project string, traceIDs []string) int64 {
	sk := m.sketches[project]
	if sk == nil {
		sk = newHLL(nil)
		m.sketches[project] = sk
	}
	set := m.sets[project]
	for _, id := range traceIDs {
		if _, ok := set[id]; !ok && sk.add(id) {
			m.dirty = true
		}
	}
	if m.dirty && time.Since(m.savedAt) >= sketchSaveEvery {
		m.saveSketches()
	}
	return m.count(project)
}

// count is project's traces of the day: its set (exact) plus its sketch (estimated).
func (m *Memory) count(project string) int64 {
	n := int64(len(m.sets[project]))
	if sk := m.sketches[project]; sk != nil {
		n += sk.count()
	}
	return n
}

// Count implements Counter.
func (m *Memory) Count(_ context.Context, project string, day time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.use(day); err != nil {
		return 0, err
	}
	return m.count(project), nil
}

// Close saves the sketches and closes the journal.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirty {
		m.saveSketches()
	}
	if m.file == nil {
		return nil
	}
	err := m.file.Close()
	m.file = nil
	m.day = time.Time{}
	if err != nil {
		return fmt.Errorf("close quota journal: %w", err)
	}
	return nil
}

// use makes day the current day: on a change it drops the sets, replays the day's journal
// and opens it for appending, and removes older journals. m.mu must be held.
func (m *Memory) use(day time.Time) error {
	if day.Equal(m.day) && m.sets != nil {
		return nil
	}
	if day.Before(m.day) {
		// A clock that stepped back: keep counting the later day rather than reopen an old one.
		return nil
	}
	if m.file != nil {
		_ = m.file.Close()
		m.file = nil
	}
	if m.dirty {
		m.saveSketches() // the day that ends
	}
	m.day, m.sets, m.sketches = day, map[string]map[string]struct{}{}, map[string]*hll{}
	if m.dir == "" {
		return nil
	}
	path := filepath.Join(m.dir, "quota-"+dayKey(day)+".log")
	if err := m.replay(path); err != nil {
		return err
	}
	if err := m.loadSketches(); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open quota journal: %w", err)
	}
	m.file = f
	m.removeOlder(day)
	return nil
}

// replay loads a day's journal. A torn last line (a crash mid-write) is skipped: its trace
// was not acknowledged, so the client sends it again.
func (m *Memory) replay(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read quota journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		id, quoted, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		project, err := strconv.Unquote(quoted)
		if err != nil {
			continue
		}
		set := m.sets[project]
		if set == nil {
			set = map[string]struct{}{}
			m.sets[project] = set
		}
		set[id] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read quota journal %q: %w", path, err)
	}
	return nil
}

// removeOlder deletes the journals and sketches of days before day; failures only leave a
// small file.
func (m *Memory) removeOlder(day time.Time) {
	for _, ext := range []string{".log", ".hll"} {
		paths, _ := filepath.Glob(filepath.Join(m.dir, "quota-*"+ext))
		for _, p := range paths {
			d, err := time.Parse("20060102", strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "quota-"), ext))
			if err == nil && d.Before(day) {
				_ = os.Remove(p)
			}
		}
	}
}

func (m *Memory) sketchPath() string {
	return filepath.Join(m.dir, "quota-"+dayKey(m.day)+".hll")
}

// saveSketches writes the day's sketches, one line per project (its quoted name and its
// registers in base64), through a temporary file and a rename so a crash never leaves half
// a file. A failure is retried at the next save; it only risks counting less after a crash.
func (m *Memory) saveSketches() {
	m.savedAt = time.Now()
	if m.dir == "" || m.day.IsZero() {
		m.dirty = false
		return
	}
	var b strings.Builder
	for project, sk := range m.sketches {
		b.WriteString(strconv.Quote(project))
		b.WriteByte(' ')
		b.WriteString(base64.StdEncoding.EncodeToString(sk.reg[:]))
		b.WriteByte('\n')
	}
	tmp := m.sketchPath() + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o640); err != nil {
		return
	}
	if err := os.Rename(tmp, m.sketchPath()); err != nil {
		return
	}
	m.dirty = false
}

// loadSketches reads the day's sketches; a damaged line is skipped.
func (m *Memory) loadSketches() error {
	data, err := os.ReadFile(m.sketchPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read quota sketches: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		quoted, enc, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		project, err := strconv.Unquote(quoted)
		if err != nil {
			continue
		}
		reg, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(reg) != hllRegisters {
			continue
		}
		m.sketches[project] = newHLL(reg)
	}
	return nil
}
