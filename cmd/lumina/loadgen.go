package main

import (
	"context"
	"fmt"
	"io"

	"github.com/use-lumina/lumina/internal/loadgen"
)

// lostSpans is the error of a load run in which acknowledged spans were not stored.
type lostSpans struct{ report *loadgen.Report }

func (e lostSpans) Error() string {
	return "acknowledged spans are missing from the store (see the report)"
}

// ExitCode makes `lumina loadgen` exit 2 on loss, 1 on other failures.
func (e lostSpans) ExitCode() int { return 2 }

// runLoadgen runs `lumina loadgen`: it sends OTLP load, prints the report and fails when any
// acknowledged span was not stored.
func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadgen.ParseFlags(args, stderr)
	if err != nil {
		return err
	}
	report, err := loadgen.Run(ctx, cfg, stdout)
	if report != nil {
		report.Print(stdout)
	}
	if err != nil {
		return fmt.Errorf("load run: %w", err)
	}
	if report.Lost() {
		return lostSpans{report}
	}
	return nil
}
