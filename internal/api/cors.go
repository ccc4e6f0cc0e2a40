package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/use-lumina/lumina/internal/auth"
)

// CORS lets the browser origins listed call h from another origin (LUMINA_CORS_ORIGINS):
// exact origins such as "https://app.example.com", or "*" for any origin without
// credentials. With no origins no CORS header is ever sent, so browsers keep the
// same-origin rule. Preflight requests are answered here.
func CORS(origins []string, h http.Handler) http.Handler {
	if len(origins) == 0 {
		return h
	}
	any := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			h.ServeHTTP(w, r)
			return
		}
		hd := w.Header()
		hd.Add("Vary", "Origin")
		allowed := slices.Contains(origins, origin)
		switch {
		case allowed:
			// A listed origin may send the session cookie too.
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Set("Access-Control-Allow-Credentials", "true")
		case any:
			hd.Set("Access-Control-Allow-Origin", "*")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if allowed || any {
				hd.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
				hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding, X-Api-Key, X-Lumina-Api-Key")
				hd.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		hd.Set("Access-Control-Expose-Headers", "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset")
		h.ServeHTTP(w, r)
	})
}

// ParseOrigins splits a comma-separated LUMINA_CORS_ORIGINS value, dropping blanks and
// trailing slashes.
func ParseOrigins(v string) []string {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// crossSiteCookieRequest refuses a state-changing request that another site's page made
// with the user's session cookie (CSRF): one that carries the cookie but no API key must
// come from the same origin (Sec-Fetch-Site or Origin). API-key requests are not at risk:
// browsers never add the key on their own.
func (s *Server) crossSiteCookieRequest(r *http.Request) error {
	if _, err := r.Cookie(auth.SessionCookie); err != nil || auth.KeyFromHeader(r.Header) != "" {
		return nil
	}
	return s.cop.Check(r)
}

// TrustOrigins lets the CORS origins (not "*") make cookie requests that change state.
func (s *Server) TrustOrigins(origins []string) error {
	for _, o := range origins {
		if o == "*" {
			continue
		}
		if err := s.cop.AddTrustedOrigin(o); err != nil {
			return fmt.Errorf("cors origin %q: %w", o, err)
		}
	}
	return nil
}
