package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/use-lumina/lumina/internal/auth"
	"github.com/use-lumina/lumina/internal/store"
)

// adminCommand runs `lumina projects|keys|users <action>` against the configured store
// (the same DATABASE_URL or data directory as serve).
type adminCommand struct {
	name    string // "projects"
	actions map[string]adminAction
}

type adminAction struct {
	synopsis string
	help     string
	flags    func(fs *flag.FlagSet, v *adminFlags)
	args     int // positional arguments wanted
	run      func(ctx context.Context, a *auth.Auth, v *adminFlags, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// adminFlags holds every admin subcommand's own flags.
type adminFlags struct {
	project, name, email, projects string
	admin, passwordStdin           bool
}

var adminCommands = map[string]adminCommand{
	"projects": {name: "projects", actions: map[string]adminAction{
		"create": {synopsis: "ID [--name NAME]", help: "create a project (ids: 1-64 of a-z, 0-9, '-', '_')",
			flags: func(fs *flag.FlagSet, v *adminFlags) {
				fs.StringVar(&v.name, "name", "", "display name (default: the id)")
			},
			args: 1, run: createProject},
		"list": {help: "list the projects", run: listProjects},
	}},
	"keys": {name: "keys", actions: map[string]adminAction{
		"create": {synopsis: "--project ID --name NAME", help: "create an API key; its secret is printed once",
			flags: func(fs *flag.FlagSet, v *adminFlags) {
				fs.StringVar(&v.project, "project", "", "project of the key")
				fs.StringVar(&v.name, "name", "", "name of the key (what uses it)")
			}, run: createKey},
		"list": {synopsis: "--project ID", help: "list a project's API keys (never their secrets)",
			flags: func(fs *flag.FlagSet, v *adminFlags) { fs.StringVar(&v.project, "project", "", "project of the keys") },
			run:   listKeys},
		"revoke": {synopsis: "KEY_ID --project ID", help: "revoke an API key",
			flags: func(fs *flag.FlagSet, v *adminFlags) { fs.StringVar(&v.project, "project", "", "project of the key") },
			args:  1, run: revokeKey},
	}},
	"users": {name: "users", actions: map[string]adminAction{
		"create": {synopsis: "--email EMAIL (--admin | --projects a,b) --password-stdin", help: "create a dashboard user; the password is read from standard input",
			flags: func(fs *flag.FlagSet, v *adminFlags) {
				fs.StringVar(&v.email, "email", "", "the user's email, used to sign in")
				fs.BoolVar(&v.admin, "admin", false, "may use every project")
				fs.StringVar(&v.projects, "projects", "", "comma-separated projects the user may use (not needed with --admin)")
				fs.BoolVar(&v.passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
			}, run: createUser},
		"list": {help: "list the dashboard users", run: listUsers},
	}},
}

func (c adminCommand) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: lumina %s <action> [flags]\n\nActions:\n", c.name)
	for _, n := range []string{"create", "list", "revoke"} {
		if a, ok := c.actions[n]; ok {
			fmt.Fprintf(&b, "  %-8s %s\n", n, a.help)
		}
	}
	b.WriteString("\nEach action also takes the serve flags that find the store (--database-url, --data-dir).\n")
	return b.String()
}

func (c adminCommand) run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stderr, c.usage())
		if len(args) == 0 {
			return fmt.Errorf("usage: lumina %s <action>", c.name)
		}
		return nil
	}
	act, ok := c.actions[args[0]]
	if !ok {
		fmt.Fprint(stderr, c.usage())
		return fmt.Errorf("lumina %s: unknown action %q", c.name, args[0])
	}
	var v adminFlags
	cfg, rest, err := parseConfigWith(c.name+" "+args[0], act.synopsis, args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		if act.flags != nil {
			act.flags(fs, &v)
		}
	})
	if err != nil {
		return err
	}
	if len(rest) != act.args {
		return fmt.Errorf("usage: lumina %s %s %s", c.name, args[0], act.synopsis)
	}
	if cfg.LogLevel == "info" {
		cfg.LogLevel = "warn" // the store's start-up lines are noise here
	}
	logger := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	a := auth.New(auth.Config{Required: true, Logger: logger}, st)
	return act.run(ctx, a, &v, rest, stdin, stdout, stderr)
}

func need(flagName, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("--%s is required", flagName)
	}
	return nil
}

func createProject(ctx context.Context, a *auth.Auth, v *adminFlags, args []string, _ io.Reader, stdout, _ io.Writer) error {
	p, err := a.CreateProject(ctx, args[0], v.name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created project %s (%s)\n", p.ID, p.Name)
	return nil
}

func listProjects(ctx context.Context, a *auth.Auth, _ *adminFlags, _ []string, _ io.Reader, stdout, _ io.Writer) error {
	ps, err := a.ProjectsOf(ctx, auth.Principal{Method: "session", Admin: true})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.ID, p.Name, when(p.CreatedAt))
	}
	return tw.Flush()
}

func createKey(ctx context.Context, a *auth.Auth, v *adminFlags, _ []string, _ io.Reader, stdout, stderr io.Writer) error {
	if err := errors.Join(need("project", v.project), need("name", v.name)); err != nil {
		return err
	}
	k, secret, err := a.CreateKey(ctx, v.project, v.name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created API key %s (%s) in project %s; store it now, it is not shown again:\n", k.ID, k.Name, k.ProjectID)
	fmt.Fprintln(stdout, secret)
	return nil
}

func listKeys(ctx context.Context, a *auth.Auth, v *adminFlags, _ []string, _ io.Reader, stdout, _ io.Writer) error {
	if err := need("project", v.project); err != nil {
		return err
	}
	ks, err := a.Keys(ctx, v.project)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tCREATED\tLAST USED\tSTATUS")
	for _, k := range ks {
		status := "active"
		if k.RevokedAt != nil {
			status = "revoked " + when(*k.RevokedAt)
		}
		used := "never"
		if k.LastUsed != nil {
			used = when(*k.LastUsed)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, when(k.CreatedAt), used, status)
	}
	return tw.Flush()
}

func revokeKey(ctx context.Context, a *auth.Auth, v *adminFlags, args []string, _ io.Reader, stdout, _ io.Writer) error {
	if err := need("project", v.project); err != nil {
		return err
	}
	if err := a.RevokeKey(ctx, v.project, args[0]); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("project %s has no API key %s", v.project, args[0])
		}
		return err
	}
	fmt.Fprintf(stdout, "revoked API key %s; running processes refuse it within --auth-cache-ttl\n", args[0])
	return nil
}

func createUser(ctx context.Context, a *auth.Auth, v *adminFlags, _ []string, stdin io.Reader, stdout, _ io.Writer) error {
	if err := need("email", v.email); err != nil {
		return err
	}
	if !v.passwordStdin {
		return errors.New("--password-stdin is required: pass the password on standard input (echo \"$PASSWORD\" | lumina users create ...), never as an argument")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	var projects []string
	for _, p := range strings.Split(v.projects, ",") {
		if p = strings.TrimSpace(p); p != "" {
			projects = append(projects, p)
		}
	}
	u, err := a.CreateUser(ctx, v.email, password, v.admin, projects)
	if err != nil {
		return err
	}
	role := "user of " + strings.Join(u.Projects, ", ")
	if u.Admin {
		role = "admin"
	}
	fmt.Fprintf(stdout, "created %s (%s)\n", u.Email, role)
	return nil
}

func listUsers(ctx context.Context, a *auth.Auth, _ *adminFlags, _ []string, _ io.Reader, stdout, _ io.Writer) error {
	us, err := a.Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tPROJECTS\tCREATED")
	for _, u := range us {
		role := "user"
		if u.Admin {
			role = "admin"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, role, strings.Join(u.Projects, ","), when(u.CreatedAt))
	}
	return tw.Flush()
}

// when formats a stored time for a table; the zero time (the built-in default project) is "-".
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
