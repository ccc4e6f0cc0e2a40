package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/auth"
)

// authServer is a dashboard with AUTH_REQUIRED=true, an admin and a user of project default
// (which every store starts with), each signed in (their session tokens).
func authServer(t *testing.T) (srv *testServer, a *auth.Auth, admin, user string) {
	t.Helper()
	now := func() time.Time { return testNow }
	srv = newTestServer(t, now, nil)
	a = auth.New(auth.Config{Required: true, Now: now}, srv.store)
	// Set before the first request: the server reads its config only while serving.
	srv.web.cfg.Auth, srv.web.cfg.Project = a, a.Project
	ctx := context.Background()
	for _, u := range []struct {
		email string
		admin bool
		token *string
	}{{"root@example.com", true, &admin}, {"dev@example.com", false, &user}} {
		if _, err := a.CreateUser(ctx, u.email, "correct horse", u.admin, []string{"default"}); err != nil {
			t.Fatal(err)
		}
		token, _, err := a.Login(ctx, u.email, "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		*u.token = token
	}
	return srv, a, admin, user
}

// signedIn sends a request with a session and the CSRF cookie (and token, for a POST).
func signedIn(t *testing.T, srv *testServer, token, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		form.Set(csrfField, fixedToken)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(&http.Cookie{Name: csrfCookie, Value: fixedToken})
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: token})
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestSettingsAdmin(t *testing.T) {
	srv, a, admin, user := authServer(t)
	ctx := context.Background()

	_, body := signedIn(t, srv, admin, "GET", "/settings", nil)
	golden(t, "settings-admin", body)

	// A user who is not an admin sees no section, and may not post to it.
	_, body = signedIn(t, srv, user, "GET", "/settings", nil)
	if strings.Contains(body, `id="admin"`) {
		t.Error("a user who is not an admin sees the administration section")
	}
	for _, path := range []string{"/settings/projects", "/settings/users"} {
		form := url.Values{"id": {"sneaky"}, "email": {"sneaky@example.com"}, "password": {"long enough"}, "admin": {"on"}}
		if res, _ := signedIn(t, srv, user, "POST", path, form); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s as a user: got %d, want 403", path, res.StatusCode)
		}
	}

	// Create a project, then a user of it; both are listed.
	res, _ := signedIn(t, srv, admin, "POST", "/settings/projects", url.Values{"id": {"checkout"}, "name": {"Checkout <prod>"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings?project_created=checkout#admin" {
		t.Fatalf("create project: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if p, err := srv.store.Project(ctx, "checkout"); err != nil || p.Name != "Checkout <prod>" || !p.CreatedAt.Equal(testNow) {
		t.Errorf("the stored project: got %+v, %v", p, err)
	}
	res, _ = signedIn(t, srv, admin, "POST", "/settings/users", url.Values{"email": {"ana@example.com"}, "password": {"a long secret"}, "projects": {"checkout", "default"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings?user_created=ana%40example.com#admin" {
		t.Fatalf("create user: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	u, err := srv.store.UserByEmail(ctx, "ana@example.com")
	if err != nil || u.Admin || strings.Join(u.Projects, ",") != "checkout,default" {
		t.Fatalf("the stored user: got %+v, %v", u, err)
	}
	if _, _, err := a.Login(ctx, "ana@example.com", "a long secret"); err != nil {
		t.Errorf("the new user cannot sign in: %v", err)
	}
	_, body = signedIn(t, srv, admin, "GET", "/settings?user_created=ana%40example.com", nil)
	for _, w := range []string{"Created user ana@example.com.", "<td>Checkout &lt;prod&gt;</td>", `<td>ana@example.com</td><td>user</td><td><span class="mono">checkout</span>, <span class="mono">default</span></td>`} {
		if !strings.Contains(body, w) {
			t.Errorf("the settings page lacks %s", w)
		}
	}

	// Bad input comes back with the auth package's message and the form as typed.
	for _, tt := range []struct {
		name, path string
		form       url.Values
		msg, typed string
	}{
		{"project id", "/settings/projects", url.Values{"id": {"Bad Id"}, "name": {"typed"}}, "is not a valid project id", `value="Bad Id"`},
		{"project taken", "/settings/projects", url.Values{"id": {"checkout"}}, "project &#34;checkout&#34; already exists", `value="checkout"`},
		{"email", "/settings/users", url.Values{"email": {"not-an-email"}, "password": {"long enough pw"}}, "is not an email address", `value="not-an-email"`},
		{"short password", "/settings/users", url.Values{"email": {"bo@example.com"}, "password": {"short"}, "projects": {"checkout"}}, "a password needs at least 8 characters", `value="checkout" checked`},
		{"no project", "/settings/users", url.Values{"email": {"bo@example.com"}, "password": {"long enough pw"}}, "needs at least one project", `value="bo@example.com"`},
		{"unknown project", "/settings/users", url.Values{"email": {"bo@example.com"}, "password": {"long enough pw"}, "projects": {"nope"}}, "not found", `value="bo@example.com"`},
		{"taken email", "/settings/users", url.Values{"email": {"ana@example.com"}, "password": {"long enough pw"}, "admin": {"on"}}, "already has an account", `name="admin" checked`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := signedIn(t, srv, admin, "POST", tt.path, tt.form)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tt.msg) || !strings.Contains(body, tt.typed) {
				t.Errorf("got %d, want 400 with %q and %s", res.StatusCode, tt.msg, tt.typed)
			}
			if strings.Contains(body, "long enough pw") {
				t.Error("the re-rendered form shows the password")
			}
		})
	}
	if _, err := srv.store.UserByEmail(ctx, "bo@example.com"); err == nil {
		t.Error("a rejected form created a user")
	}

	// CSRF: a form without the token, or from another site, is refused.
	req := func(origin string, token bool) int {
		form := url.Values{"id": {"csrf-test"}}
		if token {
			form.Set(csrfField, fixedToken)
		}
		r, _ := http.NewRequest("POST", srv.URL+"/settings/projects", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: fixedToken})
		r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: admin})
		if origin != "" {
			r.Header.Set("Origin", origin)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		res, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := req("", false); code != http.StatusForbidden {
		t.Errorf("without a CSRF token: got %d, want 403", code)
	}
	if code := req("https://evil.example", true); code != http.StatusForbidden {
		t.Errorf("cross-site: got %d, want 403", code)
	}
	if _, err := srv.store.Project(ctx, "csrf-test"); err == nil {
		t.Error("a refused form created a project")
	}
}

func TestSettingsAdminNeedsAuth(t *testing.T) {
	srv := newTestServer(t, func() time.Time { return testNow }, nil)
	res, body := post(t, srv, "/settings/projects", url.Values{"id": {"x"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "projects and users need AUTH_REQUIRED=true") {
		t.Errorf("with auth off: got %d, want 400 saying auth is off", res.StatusCode)
	}
	if _, body := get(t, srv, "/settings"); strings.Contains(body, `id="admin"`) {
		t.Error("with auth off, the settings page shows the administration section")
	}
}
