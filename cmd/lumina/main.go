// Command lumina is Lumina's single binary: `lumina serve` runs the platform (every role in
// one process by default), and the other subcommands operate on it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lumina:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCoder is an error that asks for a specific exit status (loadgen's loss check, replay's
// --fail-on-regression).
type exitCoder interface{ ExitCode() int }

func exitCode(err error) int {
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

const usage = `Lumina: OpenTelemetry-native observability for LLM applications.

Usage:
  lumina serve [flags]      run Lumina (all roles in one process by default)
  lumina migrate [flags]    apply database migrations and exit
  lumina retention run      delete expired traces now (the worker does it daily)
  lumina projects ...       create and list projects (AUTH_REQUIRED=true)
  lumina keys ...           create, list and revoke a project's API keys
  lumina users ...          create and list dashboard users
  lumina export [flags]     write stored traces and logs as OTLP/JSON lines (migration)
  lumina import [flags] F   send OTLP/JSON lines to any OTLP/HTTP endpoint (migration)
  lumina demo [flags]       send demo traffic (services, RAG, sessions, a cost spike and a
                            quality drop that raise alerts) to a running Lumina
  lumina loadgen [flags]    send OTLP load to a running Lumina and verify it was stored
  lumina replay ...         replay sets and runs (lumina replay --help)
  lumina healthcheck URL    exit 0 when URL (e.g. http://127.0.0.1:8081/ready) answers 200
  lumina version            print the version
  lumina help [command]     show help

Run 'lumina <command> --help' for a command's flags. Every serve flag can also be set
through the environment variable named in its help.
`

// stdin is the commands' standard input; tests replace it.
var stdin io.Reader = os.Stdin

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		cfg, err := parseConfig("serve", rest, getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stderr)
	case "migrate":
		cfg, err := parseConfig("migrate", rest, getenv, stderr)
		if err != nil {
			return err
		}
		return migrate(ctx, cfg, stderr)
	case "retention":
		return retentionCommand(ctx, rest, getenv, stdout, stderr)
	case "export":
		return exportCommand(ctx, rest, getenv, stdout, stderr)
	case "import":
		return importCommand(ctx, rest, getenv, stderr)
	case "replay":
		return replayCommand(ctx, rest, getenv, stdout, stderr)
	case "projects", "keys", "users":
		return adminCommands[cmd].run(ctx, rest, getenv, stdin, stdout, stderr)
	case "demo":
		return demoCommand(ctx, rest, getenv, stdout, stderr)
	case "loadgen":
		return runLoadgen(ctx, rest, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, rest, stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "lumina", version)
		return nil
	case "help", "-h", "--help":
		if len(rest) > 0 {
			return run(ctx, []string{rest[0], "--help"}, getenv, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// healthcheck probes a /health or /ready URL, for container health checks in images that
// have no shell or curl.
func healthcheck(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: lumina healthcheck URL")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", args[0], err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", args[0], err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(stdout, "%s %s\n", resp.Status, strings.TrimSpace(string(body)))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: status %d", args[0], resp.StatusCode)
	}
	return nil
}
