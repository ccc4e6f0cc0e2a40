// Package queue is Lumina's durable queue: NATS JetStream, embedded in the process by default
// or an external cluster. Ingest publishes one message per accepted OTLP request and waits for
// the stream's acknowledgement; workers pull, process and then acknowledge.
package queue

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minio/highwayhash"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Signals carried by the queue.
const (
	SignalTraces = "traces"
	SignalLogs   = "logs"
)

// Message headers.
const (
	headerProject = "Lumina-Project"
	headerSignal  = "Lumina-Signal"
	headerReason  = "Lumina-Dead-Reason"
)

// ErrUnavailable wraps every publish failure that a client should retry: the queue is
// unreachable, slow or full.
var ErrUnavailable = errors.New("queue unavailable")

// ErrFull marks a publish refused because the stream holds its MaxBytes (or message limit)
// of unprocessed requests; such errors wrap ErrUnavailable too. Until the workers drain
// some of the backlog every publish fails the same way, so a receiver can refuse the next
// requests without reading them. Its QueueFull method lets packages that do not import
// this one (the OTLP receiver) recognize it.
var ErrFull error = fullError{}

type fullError struct{}

func (fullError) Error() string   { return "queue full" }
func (fullError) QueueFull() bool { return true }

// Config configures the queue.
type Config struct {
	// URL lists external NATS servers (comma-separated); empty runs an embedded server
	// with its file store under DataDir.
	URL      string
	DataDir  string
	Stream   string // stream name; default LUMINA_SPANS
	Subjects string // subject prefix; default "lumina"
	Consumer string // durable consumer name; default "lumina-worker"
	// MaxBytes bounds the backlog of unprocessed requests; when it is full, publishing fails
	// with ErrUnavailable (back-pressure) instead of discarding anything.
	MaxBytes   int64
	MaxAge     time.Duration
	Replicas   int
	Duplicates time.Duration // dedup window for Nats-Msg-Id
	// AckWait is how long a delivered message may stay unacknowledged before redelivery.
	AckWait time.Duration
	// SyncAlways makes the embedded server fsync every write; by default writes reach the
	// operating system before the acknowledgement and are flushed every two minutes, which
	// survives a crash of the process but not of the machine.
	SyncAlways  bool
	MaxMsgSize  int32
	CredsFile   string
	User, Pass  string
	Token       string
	ConnectName string
	// PublishTimeout bounds the wait for the stream's acknowledgement; past it the publish
	// fails with ErrUnavailable and the client is told to retry.
	PublishTimeout time.Duration
}

func (c *Config) defaults() {
	if c.Stream == "" {
		c.Stream = "LUMINA_SPANS"
	}
	if c.Subjects == "" {
		c.Subjects = "lumina"
	}
	if c.Consumer == "" {
		c.Consumer = "lumina-worker"
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 8 << 30
	}
	if c.MaxAge == 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Duplicates == 0 {
		c.Duplicates = 2 * time.Minute
	}
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxMsgSize == 0 {
		c.MaxMsgSize = 64 << 20
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 5 * time.Second
	}
	if c.ConnectName == "" {
		c.ConnectName = "lumina"
	}
}

// Queue is a connection to the stream. It is safe for concurrent use.
type Queue struct {
	cfg    Config
	log    *slog.Logger
	srv    *server.Server // nil with an external NATS
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	// bodyBytes and storedBytes count what this process published: the bodies as
	// accepted and as stored (compressed or not).
	bodyBytes, storedBytes atomic.Uint64
}

// Published reports the bytes of the request bodies this process published, as accepted and
// as stored in the stream: their ratio is what compression saved.
func (q *Queue) Published() (body, stored uint64) {
	return q.bodyBytes.Load(), q.storedBytes.Load()
}

// Open starts the embedded server when cfg.URL is empty, connects, and creates or updates the
// stream and the dead-letter stream, so several processes may start at once.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Queue, error) {
	cfg.defaults()
	q := &Queue{cfg: cfg, log: logger}
	opts := []nats.Option{nats.Name(cfg.ConnectName), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	url := cfg.URL
	if url == "" {
		srv, err := startEmbedded(cfg)
		if err != nil {
			return nil, err
		}
		q.srv = srv
		opts = append(opts, nats.InProcessServer(srv))
	} else {
		opts = append(opts, authOptions(cfg)...)
		opts = append(opts,
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err != nil {
					logger.Warn("nats disconnected", "err", err)
				}
			}),
			nats.ReconnectHandler(func(nc *nats.Conn) { logger.Info("nats reconnected", "url", nc.ConnectedUrlRedacted()) }),
		)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		q.Close()
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	q.nc = nc
	q.js, err = jetstream.New(nc)
	if err != nil {
		q.Close()
		return nil, fmt.Errorf("open jetstream: %w", err)
	}
	if err := q.ensureStreams(ctx); err != nil {
		q.Close()
		return nil, err
	}
	return q, nil
}

func authOptions(cfg Config) []nats.Option {
	var opts []nats.Option
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Pass))
	}
	if cfg.Token != "" {
		opts = append(opts, nats.Token(cfg.Token))
	}
	return opts
}

func startEmbedded(cfg Config) (*server.Server, error) {
	opts := &server.Options{
		ServerName:         "lumina",
		JetStream:          true,
		StoreDir:           filepath.Join(cfg.DataDir, "jetstream"),
		DontListen:         true,
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         cfg.MaxMsgSize,
		JetStreamMaxMemory: 64 << 20,
		SyncAlways:         cfg.SyncAlways,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start embedded nats: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("start embedded nats: not ready after 30s")
	}
	return srv, nil
}

func (q *Queue) ensureStreams(ctx context.Context) error {
	p := q.cfg.Subjects
	s, err := q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        q.cfg.Stream,
		Description: "Lumina: accepted OTLP requests awaiting processing",
		Subjects:    []string{p + ".spans.*", p + ".logs.*"},
		Retention:   jetstream.WorkQueuePolicy,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    q.cfg.MaxBytes,
		MaxAge:      q.cfg.MaxAge,
		MaxMsgSize:  q.cfg.MaxMsgSize,
		Replicas:    q.cfg.Replicas,
		Duplicates:  q.cfg.Duplicates,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("create stream %s: %w", q.cfg.Stream, err)
	}
	q.stream = s
	_, err = q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        q.deadStream(),
		Description: "Lumina: requests that could not be processed (dead letters)",
		Subjects:    []string{p + ".dead.>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      q.cfg.MaxAge,
		MaxBytes:    q.cfg.MaxBytes / 8,
		Replicas:    q.cfg.Replicas,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("create stream %s: %w", q.deadStream(), err)
	}
	return nil
}

func (q *Queue) deadStream() string { return q.cfg.Stream + "_DEAD" }

// Embedded reports whether the queue runs inside this process.
func (q *Queue) Embedded() bool { return q.srv != nil }

// Publish stores one accepted request and returns once the stream acknowledged it. The
// message id is a hash of the project, signal and body, so a client's retry of the same
// request within the dedup window is stored once. Errors wrap ErrUnavailable.
func (q *Queue) Publish(ctx context.Context, signal, projectID string, body []byte) error {
	subject, err := q.subject(signal, projectID)
	if err != nil {
		return err
	}
	msg := nats.NewMsg(subject)
	release := encode(msg, body)
	defer release()
	msg.Header.Set(headerProject, projectID)
	msg.Header.Set(headerSignal, signal)
	ctx, cancel := context.WithTimeout(ctx, q.cfg.PublishTimeout)
	defer cancel()
	if _, err := q.js.PublishMsg(ctx, msg, jetstream.WithMsgID(MessageID(signal, projectID, body)), jetstream.WithExpectStream(q.cfg.Stream)); err != nil {
		if isFull(err) {
			return fmt.Errorf("%w: %w: publish %s: %v", ErrUnavailable, ErrFull, subject, err)
		}
		return fmt.Errorf("%w: publish %s: %v", ErrUnavailable, subject, err)
	}
	q.bodyBytes.Add(uint64(len(body)))
	q.storedBytes.Add(uint64(len(msg.Data)))
	return nil
}

// isFull reports whether the stream refused a publish for its limits (DiscardNew): the
// server answers with its store's "maximum bytes exceeded" or "maximum messages exceeded".
func isFull(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (strings.Contains(apiErr.Description, "maximum bytes") ||
		strings.Contains(apiErr.Description, "maximum messages"))
}

// messageIDKey keys the dedup hash. It is public and fixed, so every ingest process
// computes the same id for the same request: the hash is for deduplication, not secrecy.
var messageIDKey = []byte("lumina queue message id, v2 ....")

// MessageID is the dedup id of a request: a 256-bit HighwayHash of what it carries (the
// signal, the project and the whole body), as 64 hex digits. HighwayHash (already linked
// for JetStream's file store) runs ~7x faster than SHA-256 here, and hashing every
// accepted byte was the largest single cost of ingest (issue 11). Its key is public, so
// ids are not cryptographically collision-resistant; the project is in the hash, so a
// client could at worst collide two of its own requests.
func MessageID(signal, projectID string, body []byte) string {
	h, err := highwayhash.New(messageIDKey)
	if err != nil {
		panic(err) // the key is 32 bytes
	}
	h.Write([]byte(signal + "\x00" + projectID + "\x00"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func (q *Queue) subject(signal, projectID string) (string, error) {
	if signal != SignalTraces && signal != SignalLogs {
		return "", fmt.Errorf("unknown signal %q", signal)
	}
	if projectID == "" || strings.ContainsAny(projectID, ".*> \t\r\n") {
		return "", fmt.Errorf("project id %q is not a valid subject token", projectID)
	}
	kind := "spans"
	if signal == SignalLogs {
		kind = "logs"
	}
	return q.cfg.Subjects + "." + kind + "." + projectID, nil
}

// Ping checks that the stream answers.
func (q *Queue) Ping(ctx context.Context) error {
	if q.nc == nil || !q.nc.IsConnected() {
		return errors.New("nats not connected")
	}
	if _, err := q.stream.Info(ctx); err != nil {
		return fmt.Errorf("stream %s info: %w", q.cfg.Stream, err)
	}
	return nil
}

// Stats is the queue's state for metrics.
type Stats struct {
	Messages    uint64 // requests stored and not yet processed
	Bytes       uint64
	Pending     uint64 // not yet delivered to a worker
	AckPending  int    // delivered, not yet acknowledged
	Redelivered int
	DeadLetters uint64
}

// Stats reads the stream and consumer state.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	info, err := q.stream.Info(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("stream %s info: %w", q.cfg.Stream, err)
	}
	st := Stats{Messages: info.State.Msgs, Bytes: info.State.Bytes}
	if c, err := q.stream.Consumer(ctx, q.cfg.Consumer); err == nil {
		if ci, err := c.Info(ctx); err == nil {
			st.Pending, st.AckPending, st.Redelivered = ci.NumPending, ci.NumAckPending, ci.NumRedelivered
		}
	}
	if ds, err := q.js.Stream(ctx, q.deadStream()); err == nil {
		if di, err := ds.Info(ctx); err == nil {
			st.DeadLetters = di.State.Msgs
		}
	}
	return st, nil
}

// DeleteStreams removes the stream named stream and its dead-letter stream, with every
// message in them, from the NATS server at url: what a test sharing an external server
// leaves behind, or a deployment being torn down.
func DeleteStreams(ctx context.Context, url, stream string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return fmt.Errorf("connect %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range []string{stream, stream + "_DEAD"} {
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, fmt.Errorf("delete stream %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Close closes the connection and stops the embedded server, if any.
func (q *Queue) Close() {
	if q.nc != nil {
		q.nc.Close()
	}
	if q.srv != nil {
		q.srv.Shutdown()
		q.srv.WaitForShutdown()
	}
}
