package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/use-lumina/lumina/internal/auth"
	"github.com/use-lumina/lumina/internal/store"
)

// loginData is the sign-in page.
type loginData struct {
	CSRF  string
	Next  string
	Email string
	Error string
}

// registerLogin adds sign-in, sign-out, the project switch and API key management. Sign-in
// is the one page that needs no session.
func (s *Server) registerLogin(mux *http.ServeMux) {
	mux.Handle("GET /login", s.secure(http.HandlerFunc(s.loginPage)))
	mux.Handle("POST /login", s.secure(s.checkCSRF(http.HandlerFunc(s.login))))
	mux.Handle("POST /logout", s.secure(s.checkCSRF(http.HandlerFunc(s.logout))))
	mux.Handle("POST /settings/project", s.secure(s.checkCSRF(http.HandlerFunc(s.switchProject))))
	mux.Handle("POST /settings/keys", s.secure(s.checkCSRF(s.page(s.createKey))))
	mux.Handle("POST /settings/keys/{id}/revoke", s.secure(s.checkCSRF(http.HandlerFunc(s.revokeKey))))
}

// safeNext keeps a post-login redirect on this site: a path, never "//host" or a URL.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Auth == nil || !s.cfg.Auth.Required() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	d.CSRF = csrfToken(w, r)
	var buf bytes.Buffer
	if err := s.pages.login.ExecuteTemplate(&buf, "login", d); err != nil {
		s.log.Error("render sign-in page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Auth == nil || !s.cfg.Auth.Required() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	email, next := r.PostFormValue("email"), safeNext(r.PostFormValue("next"))
	token, sess, err := s.cfg.Auth.Login(r.Context(), email, r.PostFormValue("password"))
	if err != nil {
		status, msg := http.StatusUnauthorized, "Wrong email or password."
		if !errors.Is(err, auth.ErrBadLogin) {
			s.log.Error("sign-in failed", "err", err)
			status, msg = http.StatusServiceUnavailable, "Signing in is not possible right now; try again shortly."
		}
		s.renderLogin(w, r, status, loginData{Next: next, Email: email, Error: msg})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: auth.SessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secureRequest(r), Expires: sess.ExpiresAt,
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil && s.cfg.Auth != nil {
		if err := s.cfg.Auth.Logout(r.Context(), c.Value); err != nil {
			s.log.Error("sign-out failed", "err", err)
			http.Error(w, "signing out failed; try again", http.StatusServiceUnavailable)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: secureRequest(r)})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// secureRequest says whether the browser reached us over HTTPS, directly or through a
// reverse proxy that says so; the session cookie is then sent only over HTTPS.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (s *Server) switchProject(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(auth.SessionCookie)
	if s.cfg.Auth == nil || err != nil {
		http.Error(w, "switching projects needs a dashboard session", http.StatusBadRequest)
		return
	}
	switch err := s.cfg.Auth.SwitchProject(r.Context(), c.Value, r.PostFormValue("project")); {
	case errors.Is(err, auth.ErrUnauthenticated):
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, "no such project, or you may not use it", http.StatusNotFound)
	case err != nil:
		s.log.Error("switch project", "err", err)
		http.Error(w, "switching projects failed; try again", http.StatusServiceUnavailable)
	default:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

// createKey makes an API key and shows the settings page with its secret, once: it is in
// this response only, never in a URL or the store.
func (s *Server) createKey(ctx context.Context, r *request) (view, error) {
	if s.cfg.Auth == nil {
		return view{}, badRequestf("API keys need AUTH_REQUIRED=true")
	}
	k, secret, err := s.cfg.Auth.CreateKey(ctx, r.Project, r.PostFormValue("name"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return view{}, err
		}
		return view{}, badRequestf("%s", err.Error())
	}
	v, err := s.settings(ctx, r)
	if err != nil {
		return v, err
	}
	d := v.Data.(settingsData)
	d.NewKey, d.NewSecret = k.Name, secret
	v.Data = d
	return v, nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) {
	project, err := s.cfg.Project(r)
	if err != nil || s.cfg.Auth == nil {
		http.Error(w, "sign in required", http.StatusUnauthorized)
		return
	}
	switch err := s.cfg.Auth.RevokeKey(r.Context(), project, r.PathValue("id")); {
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, "no such API key in this project", http.StatusNotFound)
	case err != nil:
		s.log.Error("revoke api key", "err", err)
		http.Error(w, "revoking the key failed; try again", http.StatusServiceUnavailable)
	default:
		http.Redirect(w, r, "/settings#keys", http.StatusSeeOther)
	}
}

// user is the email of the request's dashboard session, "" when it has none.
func (s *Server) user(r *http.Request) string {
	if s.cfg.Auth == nil || !s.cfg.Auth.Required() {
		return ""
	}
	if _, err := r.Cookie(auth.SessionCookie); err != nil {
		return ""
	}
	p, err := s.cfg.Auth.Request(r)
	if err != nil {
		return ""
	}
	return p.Email
}
