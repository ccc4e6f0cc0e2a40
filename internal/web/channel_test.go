package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

func storedChannel(t *testing.T, st store.AlertStore, project, id string) (store.Channel, bool) {
	t.Helper()
	cs, err := st.Channels(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.ID == id {
			return c, true
		}
	}
	return store.Channel{}, false
}

func TestChannelEdit(t *testing.T) {
	srv := validatingServer(t)
	ctx := context.Background()
	if err := srv.store.PutChannel(ctx, store.Channel{ID: "ch-theirs", ProjectID: "someone-else", Type: store.ChannelWebhook,
		Name: "Theirs", URL: "https://theirs.example/x", Enabled: true, CreatedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	// The page prefills what may be shown and never the URL's path or the secret.
	res, body := get(t, srv, "/alerts/channels/ch-ops")
	if res.StatusCode != 200 {
		t.Fatalf("GET the channel: got %d", res.StatusCode)
	}
	for _, w := range []string{`value="Ops webhook"`, `<option value="webhook" selected>`, "now https://hooks.example.com/…; empty keeps it",
		"set; empty keeps it", `name="clear_secret"`, `<td class="mono nowrap">` + testNow.Add(-30*time.Minute).Format("2006-01-02 15:04:05"),
		"503 Service Unavailable", `<a href="/alerts/` + aid(1) + `">cost_spike</a>`} {
		if !strings.Contains(body, w) {
			t.Errorf("the channel page lacks %s", w)
		}
	}
	for _, leak := range []string{"secret-path", "s3cret"} {
		if strings.Contains(body, leak) {
			t.Errorf("the channel page shows %q", leak)
		}
	}

	// Empty URL and secret keep the stored ones; the rest is what the form says.
	form := url.Values{"type": {"webhook"}, "name": {"Ops <b>hook</b>"}, "min_severity": {"warning"}}
	res, _ = post(t, srv, "/alerts/channels/ch-ops/edit", form)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/alerts/channels/ch-ops?saved=1" {
		t.Fatalf("save: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	c, _ := storedChannel(t, srv.store, "default", "ch-ops")
	if c.Name != "Ops <b>hook</b>" || c.URL != "https://hooks.example.com/T0/secret-path" || c.Secret != "s3cret" ||
		c.MinSeverity != "warning" || c.Enabled || !c.CreatedAt.Equal(testNow.Add(-72*time.Hour)) {
		t.Errorf("after the edit: got %+v, want the new name and severity, disabled, the URL, secret and creation kept", c)
	}
	_, body = get(t, srv, "/alerts/channels/ch-ops?saved=1")
	if !strings.Contains(body, "Ops &lt;b&gt;hook&lt;/b&gt;") || strings.Contains(body, "<b>hook</b>") {
		t.Error("the channel's name is not escaped on its page")
	}

	// A new URL and secret replace the stored ones; clear_secret removes it.
	form = url.Values{"type": {"webhook"}, "name": {"Ops"}, "url": {"https://new.example.org/h/tok"}, "secret": {"new-secret"}, "enabled": {"on"}}
	if res, _ := post(t, srv, "/alerts/channels/ch-ops/edit", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save with a new URL: got %d", res.StatusCode)
	}
	if c, _ := storedChannel(t, srv.store, "default", "ch-ops"); c.URL != "https://new.example.org/h/tok" || c.Secret != "new-secret" || !c.Enabled {
		t.Errorf("after the new URL and secret: got %+v", c)
	}
	form = url.Values{"type": {"webhook"}, "name": {"Ops"}, "clear_secret": {"on"}, "enabled": {"on"}}
	if res, _ := post(t, srv, "/alerts/channels/ch-ops/edit", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save clearing the secret: got %d", res.StatusCode)
	}
	if c, _ := storedChannel(t, srv.store, "default", "ch-ops"); c.Secret != "" || c.URL != "https://new.example.org/h/tok" {
		t.Errorf("after clearing the secret: got %+v", c)
	}

	// Invalid edits are refused with the validator's message, the form as typed, nothing stored.
	for _, tt := range []struct {
		name string
		form url.Values
		msg  string
	}{
		{"bad url", url.Values{"type": {"webhook"}, "name": {"typed name"}, "url": {"ftp://x/y"}, "secret": {"keep-me-secret"}}, "url must be an absolute http or https URL"},
		{"pagerduty without a key", url.Values{"type": {"pagerduty"}, "name": {"typed name"}}, "pagerduty channels need a routing_key"},
		{"severity", url.Values{"type": {"webhook"}, "name": {"typed name"}, "min_severity": {"loud"}}, "min_severity: want info, warning or critical"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := post(t, srv, "/alerts/channels/ch-ops/edit", tt.form)
			if res.StatusCode != 400 || !strings.Contains(body, tt.msg) || !strings.Contains(body, `id="channel-error"`) {
				t.Errorf("got %d, want 400 with %q", res.StatusCode, tt.msg)
			}
			if !strings.Contains(body, `value="typed name"`) || strings.Contains(body, "keep-me-secret") {
				t.Error("the form is not re-rendered as typed, without the secret")
			}
			if c, _ := storedChannel(t, srv.store, "default", "ch-ops"); c.Name != "Ops" {
				t.Errorf("a rejected edit changed the channel: %+v", c)
			}
		})
	}

	// CSRF, and another project's channel.
	if res := postForm(t, srv, "/alerts/channels/ch-ops/edit", url.Values{"type": {"slack"}}, true, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("edit without a token: got %d, want 403", res.StatusCode)
	}
	if res := postForm(t, srv, "/alerts/channels/ch-ops/edit", url.Values{csrfField: {fixedToken}, "type": {"slack"}}, true, "https://evil.example"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site edit: got %d, want 403", res.StatusCode)
	}
	if res, _ := post(t, srv, "/alerts/channels/ch-theirs/edit", url.Values{"type": {"webhook"}, "url": {"https://x.example"}}); res.StatusCode != 404 {
		t.Errorf("editing another project's channel: got %d, want 404", res.StatusCode)
	}
	if c, _ := storedChannel(t, srv.store, "someone-else", "ch-theirs"); c.Name != "Theirs" {
		t.Errorf("another project's channel changed: %+v", c)
	}
	// The rules page links each channel to its page.
	if _, body := get(t, srv, "/alerts/rules"); !strings.Contains(body, `<a class="btn small" href="/alerts/channels/ch-slack"`) {
		t.Error("the rules page has no Edit link to the channel page")
	}
}
