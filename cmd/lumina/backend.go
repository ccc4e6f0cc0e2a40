package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/use-lumina/lumina/internal/queue"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/postgres"
	"github.com/use-lumina/lumina/internal/store/sqlite"
)

// openStore is the one backend switch: PostgreSQL when DATABASE_URL is set, else embedded
// SQLite in the data directory.
func openStore(ctx context.Context, cfg *config, logger *slog.Logger) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		return postgres.Open(ctx, cfg.DatabaseURL, logger)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %q: %w", cfg.DataDir, err)
	}
	var opts []sqlite.Option
	if cfg.SyncAlways {
		opts = append(opts, sqlite.WithFullSync())
	}
	return sqlite.Open(ctx, filepath.Join(cfg.DataDir, "lumina.db"), logger, opts...)
}

func openQueue(ctx context.Context, cfg *config, logger *slog.Logger) (*queue.Queue, error) {
	if cfg.NATSURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory %q: %w", cfg.DataDir, err)
		}
	}
	return queue.Open(ctx, queue.Config{
		URL:        cfg.NATSURL,
		DataDir:    cfg.DataDir,
		Stream:     cfg.QueueStream,
		Subjects:   cfg.QueueSubjects,
		MaxBytes:   cfg.QueueMaxBytes,
		Replicas:   cfg.QueueReplicas,
		AckWait:    cfg.QueueAckWait,
		SyncAlways: cfg.SyncAlways,
		MaxMsgSize: int32(min(cfg.MaxBodyBytes+(1<<20), 1<<30)),
	}, logger)
}

// migrate applies the database migrations and exits (`lumina migrate`). Opening a store
// migrates it too; this runs them alone, e.g. before rolling out new processes.
func migrate(ctx context.Context, cfg *config, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	if cfg.DatabaseURL != "" {
		if err := postgres.Migrate(ctx, cfg.DatabaseURL, logger); err != nil {
			return err
		}
		logger.Info("postgresql migrations applied")
		return nil
	}
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	logger.Info("sqlite migrations applied", "path", filepath.Join(cfg.DataDir, "lumina.db"))
	return st.Close()
}
