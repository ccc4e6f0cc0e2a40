package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/auth"
	"github.com/use-lumina/lumina/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates/*.html files that are whole pages (each defines "content");
// the others are shared partials.
var pageNames = []string{"home", "traces", "trace", "cost", "settings", "error",
	"alerts", "alert", "alert_rules", "alert_rule", "alert_channel", "sessions", "users", "replay", "replay_set", "replay_run", "replay_item"}

// pages holds one parsed template set per page: layout + partials + the page.
type pages struct {
	sets map[string]*template.Template
	// fragments renders partials on their own (live rows, the span inspector).
	fragments *template.Template
	// login is the sign-in page, which stands alone (no navigation).
	login *template.Template
}

func templateFuncs(st staticFiles) template.FuncMap {
	return template.FuncMap{
		"dur":      fmtDuration,
		"usd":      fmtUSD,
		"cost":     fmtCost,
		"int":      fmtAnyInt,
		"compact":  fmtCompact,
		"time":     fmtTime,
		"clock":    fmtClock,
		"pct":      fmtPercent,
		"permtok":  fmtPerMTok,
		"short":    shortID,
		"static":   st.url,
		"rfc3339":  func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		"unixnano": func(t time.Time) int64 { return t.UnixNano() },
		"inc":      func(n int) int { return n + 1 },
		"deref":    func(p *float64) float64 { return *p },
		"sharew":   func(r float64) float64 { return round2(min(max(r, 0), 1) * 100) },
		"quotaw": func(count, limit int64) float64 {
			return round2(min(max(float64(count)/float64(max(limit, 1)), 0), 1) * 100)
		},
		"deleteSet": func(id, name, csrf string) struct{ ID, Name, CSRF string } {
			return struct{ ID, Name, CSRF string }{id, name, csrf}
		},
		"navItem": func(current, key, url, label, keys string) navItem {
			return navItem{URL: url, Label: label, Keys: keys, Current: current == key}
		},
	}
}

func parsePages(st staticFiles) (*pages, error) {
	p := &pages{sets: map[string]*template.Template{}}
	shared := []string{"templates/layout.html", "templates/partials.html", "templates/inspector.html"}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(templateFuncs(st)).ParseFS(templateFS, append(shared, "templates/"+name+".html")...)
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		p.sets[name] = t
	}
	t, err := template.New("fragments").Funcs(templateFuncs(st)).ParseFS(templateFS, shared[1:]...)
	if err != nil {
		return nil, fmt.Errorf("parse fragments: %w", err)
	}
	p.fragments = t
	if p.login, err = template.New("login").Funcs(templateFuncs(st)).ParseFS(templateFS, "templates/login.html"); err != nil {
		return nil, fmt.Errorf("parse sign-in page: %w", err)
	}
	return p, nil
}

// navItem is one entry of the side navigation.
type navItem struct {
	URL, Label, Keys string
	Current          bool
}

// request is what a page handler gets: the HTTP request and its resolved project.
type request struct {
	*http.Request
	Project string
	Now     time.Time
}

// view is what a page handler returns: which page to render with which data.
type view struct {
	Page   string // a pageNames entry
	Title  string
	Nav    string // the highlighted navigation item
	Data   any
	Status int // 0 means 200
}

type pageFunc func(ctx context.Context, r *request) (view, error)

// layoutData is what layout.html renders around every page.
type layoutData struct {
	Title   string
	Nav     string
	Project string
	CSRF    string
	Now     time.Time
	// User is the signed-in user's email; "" without a dashboard session.
	User string
	Data any
}

// badRequest is an error the user caused (a bad filter value); its message is shown.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badRequestf(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

// errorData is the error page's data.
type errorData struct {
	Status  int
	Heading string
	Message string
}

// page adapts a pageFunc: resolve the project, run it, render its view in the layout, and
// turn errors into error pages.
func (s *Server) page(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		project, err := s.cfg.Project(r)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated) && s.cfg.Auth != nil && r.Method == http.MethodGet:
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		case errors.Is(err, auth.ErrUnauthenticated):
			s.render(w, r, "", view{Page: "error", Title: "Sign in required", Status: http.StatusUnauthorized,
				Data: errorData{Status: 401, Heading: "Sign in required", Message: err.Error()}})
			return
		case err != nil:
			s.log.Error("dashboard credentials could not be checked", "path", r.URL.Path, "err", err)
			s.render(w, r, "", view{Page: "error", Title: "Unavailable", Status: http.StatusServiceUnavailable,
				Data: errorData{Status: 503, Heading: "Unavailable", Message: "Your session could not be checked right now; reload in a moment."}})
			return
		}
		v, err := h(r.Context(), &request{Request: r, Project: project, Now: s.cfg.Now().UTC()})
		if err != nil {
			v = s.errorView(r, err)
		}
		s.render(w, r, project, v)
	})
}

func (s *Server) errorView(r *http.Request, err error) view {
	var br *badRequest
	switch {
	case errors.As(err, &br):
		return view{Page: "error", Title: "Bad request", Status: http.StatusBadRequest,
			Data: errorData{Status: 400, Heading: "That request did not make sense", Message: br.msg}}
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound):
		return view{Page: "error", Title: "Not found", Status: http.StatusNotFound,
			Data: errorData{Status: 404, Heading: "Not found", Message: "Nothing lives at " + r.URL.Path + " in this project."}}
	case errors.Is(err, errForbidden):
		return view{Page: "error", Title: "Forbidden", Status: http.StatusForbidden,
			Data: errorData{Status: 403, Heading: "Admins only", Message: "Only an admin's dashboard session may do this."}}
	case errors.Is(err, store.ErrInvalidCursor):
		return view{Page: "error", Title: "Bad request", Status: http.StatusBadRequest,
			Data: errorData{Status: 400, Heading: "That page link has expired", Message: "The pagination cursor is not valid; start again from the first page."}}
	}
	if !errors.Is(err, context.Canceled) {
		s.log.Error("dashboard request failed", "path", r.URL.Path, "err", err)
	}
	return view{Page: "error", Title: "Error", Status: http.StatusInternalServerError,
		Data: errorData{Status: 500, Heading: "Something went wrong", Message: "The dashboard could not load this page. The server log has the details."}}
}

// render executes the view's page into a buffer first, so a template error becomes a 500
// rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, project string, v view) {
	t, ok := s.pages.sets[v.Page]
	if !ok {
		t = s.pages.sets["error"]
	}
	var buf bytes.Buffer
	err := t.ExecuteTemplate(&buf, "layout", layoutData{Title: v.Title, Nav: v.Nav, Project: project,
		CSRF: csrfToken(w, r), Now: s.cfg.Now().UTC(), Data: v.Data, User: s.user(r)})
	if err != nil {
		s.log.Error("render dashboard page", "page", v.Page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if v.Status != 0 {
		w.WriteHeader(v.Status)
	}
	_, _ = buf.WriteTo(w)
}

// fragment renders one partial (a live table row, the span inspector) to a string.
func (s *Server) fragment(name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := s.pages.fragments.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("render fragment %s: %w", name, err)
	}
	return buf.String(), nil
}

// staticFiles serves the embedded CSS and JavaScript under a content-hash version, so they
// can be cached forever and still change with the binary.
type staticFiles struct {
	fsys    fs.FS
	version map[string]string
}

func newStaticFiles() staticFiles {
	sub, _ := fs.Sub(staticFS, "static") // the directory is embedded, so Sub cannot fail
	st := staticFiles{fsys: sub, version: map[string]string{}}
	entries, _ := fs.ReadDir(sub, ".")
	for _, e := range entries {
		b, _ := fs.ReadFile(sub, e.Name())
		sum := sha256.Sum256(b)
		st.version[e.Name()] = hex.EncodeToString(sum[:6])
	}
	return st
}

// url is the versioned URL of a static file.
func (st staticFiles) url(name string) string { return "/static/" + name + "?v=" + st.version[name] }

var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func (st staticFiles) serve(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	v, ok := st.version[name]
	typ := staticTypes[path.Ext(name)]
	if !ok || typ == "" || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(st.fsys, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", typ)
	if r.URL.Query().Get("v") == v {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+v+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// fmtAnyInt is fmtInt for the integer types templates meet.
func fmtAnyInt(v any) string {
	switch n := v.(type) {
	case int:
		return fmtInt(int64(n))
	case int64:
		return fmtInt(n)
	case int32:
		return fmtInt(int64(n))
	case uint32:
		return fmtInt(int64(n))
	}
	return fmt.Sprint(v)
}
