package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// registerActions adds the dashboard's state-changing routes: every one is a POST behind
// checkCSRF that answers with a redirect (303) on success.
func (s *Server) registerActions(mux *http.ServeMux) {
	act := func(pattern string, h actionFunc) { mux.Handle(pattern, s.secure(s.checkCSRF(s.action(h)))) }
	act("POST /alerts/{id}/acknowledge", s.acknowledgeAlert)
	act("POST /alerts/{id}/resolve", s.resolveAlert)
	act("POST /alerts/rules/{id}/enabled", s.setRuleEnabled)
	act("POST /alerts/rules/{id}/threshold", s.setRuleThreshold)
	act("POST /alerts/rules", s.createRule)
	act("POST /alerts/rules/{id}/edit", s.updateRule)
	act("POST /alerts/rules/{id}/delete", s.deleteRule)
	act("POST /alerts/channels/{id}/test", s.testChannel)
	act("POST /alerts/channels", s.createChannel)
	act("POST /alerts/channels/{id}/edit", s.updateChannel)
	act("POST /alerts/channels/{id}/delete", s.deleteChannel)
	act("POST /settings/projects", s.createProject)
	act("POST /settings/users", s.createUser)
	act("POST /replay/sets", s.createReplaySet)
	act("POST /replay/sets/{id}/runs", s.startReplayRun)
	act("POST /replay/sets/{id}/delete", s.deleteReplaySet)
	act("POST /replay/runs/{id}/cancel", s.cancelReplayRun)
}

// actionFunc handles a POST: it returns where to send the browser, or a view to render
// instead (a form with what was wrong, status 400), or an error.
type actionFunc func(ctx context.Context, r *request) (redirect string, v *view, err error)

func (s *Server) action(h actionFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		project, err := s.cfg.Project(r)
		if err != nil {
			http.Error(w, "sign in required", http.StatusUnauthorized)
			return
		}
		to, v, err := h(r.Context(), &request{Request: r, Project: project, Now: s.cfg.Now().UTC()})
		switch {
		case err != nil:
			s.render(w, r, project, s.errorView(r, err))
		case v != nil:
			s.render(w, r, project, *v)
		default:
			http.Redirect(w, r, to, http.StatusSeeOther)
		}
	})
}

// localReturn is the form's "return" path when it is one of ours (a path on this origin,
// never //host or a scheme), else fallback: the redirect after an action never leaves the
// dashboard.
func localReturn(r *http.Request, fallback string) string {
	v := r.PostFormValue("return")
	if v == "" || !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.ContainsAny(v, "\\\r\n") {
		return fallback
	}
	return v
}

// isBadRequest reports whether err is the user's (its message is safe and useful to show).
func isBadRequest(err error) (string, bool) {
	var br *badRequest
	if errors.As(err, &br) {
		return br.msg, true
	}
	return "", false
}
