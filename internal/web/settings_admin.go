package web

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// errForbidden renders the 403 page: the signed-in user is not an admin.
var errForbidden = errors.New("admins only")

// adminData is the settings page's administration section, shown to an admin's session:
// every user, and the forms that create projects and users (as lumina projects create and
// lumina users create do, through the same auth functions).
type adminData struct {
	Users       []store.User
	ProjectForm projectForm
	ProjectErr  string
	UserForm    userForm
	UserErr     string
}

// projectForm is the new-project form as typed.
type projectForm struct{ ID, Name string }

// userForm is the new-user form as typed; the password is never rendered back.
type userForm struct {
	Email    string
	Admin    bool
	Projects []string
}

// Has reports whether the form picked project id.
func (f userForm) Has(id string) bool { return slices.Contains(f.Projects, id) }

// requireAdmin fails unless the request is an admin's dashboard session: errForbidden for
// anyone else (an API key included), a bad request when auth is off.
func (s *Server) requireAdmin(r *request) error {
	if s.cfg.Auth == nil || !s.cfg.Auth.Required() {
		return badRequestf("projects and users need AUTH_REQUIRED=true")
	}
	p, err := s.cfg.Auth.Request(r.Request)
	if err != nil {
		return err
	}
	if p.Method != "session" || !p.Admin {
		return errForbidden
	}
	return nil
}

// createProject makes a project from the settings form, or re-renders the page with what
// was wrong (400).
func (s *Server) createProject(ctx context.Context, r *request) (string, *view, error) {
	if err := s.requireAdmin(r); err != nil {
		return "", nil, err
	}
	f := projectForm{ID: strings.TrimSpace(r.PostFormValue("id")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	p, err := s.cfg.Auth.CreateProject(ctx, f.ID, f.Name)
	if err != nil {
		return s.adminFormError(ctx, r, func(a *adminData) { a.ProjectForm, a.ProjectErr = f, err.Error() })
	}
	return "/settings?project_created=" + url.QueryEscape(p.ID) + "#admin", nil, nil
}

// createUser adds a dashboard user from the settings form, or re-renders the page with
// what was wrong (400) and without the password.
func (s *Server) createUser(ctx context.Context, r *request) (string, *view, error) {
	if err := s.requireAdmin(r); err != nil {
		return "", nil, err
	}
	if err := r.ParseForm(); err != nil {
		return "", nil, badRequestf("read the form: %v", err)
	}
	f := userForm{Email: strings.TrimSpace(r.PostFormValue("email")), Admin: r.PostFormValue("admin") == "on", Projects: r.PostForm["projects"]}
	u, err := s.cfg.Auth.CreateUser(ctx, f.Email, r.PostFormValue("password"), f.Admin, f.Projects)
	if err != nil {
		return s.adminFormError(ctx, r, func(a *adminData) { a.UserForm, a.UserErr = f, err.Error() })
	}
	return "/settings?user_created=" + url.QueryEscape(u.Email) + "#admin", nil, nil
}

// adminFormError renders the settings page with one administration form as typed and its
// error (400).
func (s *Server) adminFormError(ctx context.Context, r *request, set func(*adminData)) (string, *view, error) {
	v, err := s.settings(ctx, r)
	if err != nil {
		return "", nil, err
	}
	d := v.Data.(settingsData)
	if d.Admin == nil {
		return "", nil, errForbidden
	}
	set(d.Admin)
	v.Data, v.Status = d, 400
	return "", &v, nil
}
