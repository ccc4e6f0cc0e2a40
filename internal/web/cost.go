package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/use-lumina/lumina/internal/cost"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// costData is the cost page.
type costData struct {
	Windows      []windowLink
	Window       window
	Since, Until time.Time
	Totals       store.OverviewStats
	PerRequest   string
	ModelChart   chart
	ServiceChart chart
	Models       []modelRow
	Services     []store.ServiceUsage
	Endpoints    []store.EndpointUsage
	Expensive    []store.TraceCost
	Unpriced     []store.ModelCount
	Prices       []genai.Price
	Form         priceForm
	Saved        string
	Deleted      string
	BuiltinCount int
}

// priceForm is the custom price editor's fields as typed, and what was wrong with them.
type priceForm struct {
	Provider, Model, MatchType, Input, Output, CacheRead, CacheWrite, EffectiveFrom string
	Error                                                                           string
}

func (s *Server) costPage(ctx context.Context, r *request) (view, error) {
	return s.costView(ctx, r, priceForm{MatchType: "exact"})
}

func (s *Server) costView(ctx context.Context, r *request, form priceForm) (view, error) {
	w, since, until, links, err := pickWindow(r, "/cost")
	if err != nil {
		return view{}, err
	}
	o, err := s.store.Overview(ctx, store.OverviewQuery{ProjectID: r.Project, Since: since, Until: until, Buckets: w.Buckets, Top: 20})
	if err != nil {
		return view{}, err
	}
	unpriced, err := s.store.UnpricedModels(ctx, r.Project, since)
	if err != nil {
		return view{}, err
	}
	prices, err := s.store.Prices(ctx, r.Project)
	if err != nil {
		return view{}, err
	}
	d := costData{Windows: links, Window: w, Since: since, Until: until, Totals: o.Totals, Models: modelRows(o),
		Services: o.Services, Endpoints: o.Endpoints, Expensive: o.Expensive, Unpriced: unpriced, Prices: prices,
		Form: form, Saved: r.URL.Query().Get("saved"), Deleted: r.URL.Query().Get("deleted")}
	if s.pricing != nil {
		d.BuiltinCount = s.pricing.Table().Len()
	}
	if o.Totals.Traces > 0 {
		d.PerRequest = fmtUSD(o.Totals.CostUSD / float64(o.Totals.Traces))
	}
	starts := make([]time.Time, len(o.Buckets))
	for i, b := range o.Buckets {
		starts[i] = b.Start
	}
	var models, services []seriesData
	for _, m := range o.Models {
		name := m.Model
		if name == "" {
			name = "(no model)"
		}
		models = append(models, seriesData{Name: name, Values: m.BucketCost, Total: costTotal(m.CostUSD, m.UnpricedCalls)})
	}
	for _, sv := range o.Services {
		services = append(services, seriesData{Name: sv.Service, Values: sv.BucketCost, Total: costTotal(sv.CostUSD, sv.UnpricedCalls)})
	}
	d.ModelChart = stackedBars("Cost per bucket by model", starts, o.BucketWidth, models, axisUSD, 0)
	d.ServiceChart = stackedBars("Cost per bucket by root service", starts, o.BucketWidth, services, axisUSD, 0)
	d.Expensive = d.Expensive[:min(len(d.Expensive), 10)]
	status := 0
	if form.Error != "" {
		status = http.StatusBadRequest
	}
	return view{Page: "cost", Title: "Cost", Nav: "cost", Data: d, Status: status}, nil
}

// costTotal is a legend's total: "unpriced" when nothing of it had a price, never $0.00.
func costTotal(usd float64, unpriced int64) string {
	if usd == 0 && unpriced > 0 {
		return "unpriced"
	}
	return fmtUSD(usd)
}

// parsePrice turns the editor's fields into a price, validated as the API validates it.
func parsePrice(f priceForm) (genai.Price, error) {
	p := genai.Price{Provider: strings.TrimSpace(f.Provider), Model: strings.TrimSpace(f.Model), MatchType: f.MatchType}
	num := func(name, v string, required bool) (*float64, error) {
		v = strings.TrimSpace(v)
		if v == "" {
			if required {
				return nil, badRequestf("%s is required", name)
			}
			return nil, nil
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, badRequestf("%s must be a number of dollars per million tokens, got %q", name, v)
		}
		return &x, nil
	}
	in, err := num("input price", f.Input, true)
	if err != nil {
		return p, err
	}
	out, err := num("output price", f.Output, true)
	if err != nil {
		return p, err
	}
	p.InputPerMTok, p.OutputPerMTok = *in, *out
	if p.CacheReadPerMTok, err = num("cache read price", f.CacheRead, false); err != nil {
		return p, err
	}
	if p.CacheWritePerMTok, err = num("cache write price", f.CacheWrite, false); err != nil {
		return p, err
	}
	if v := strings.TrimSpace(f.EffectiveFrom); v != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", v, time.UTC)
		if err != nil {
			return p, badRequestf("effective from must be a date and time (UTC), got %q", v)
		}
		p.EffectiveFrom = t
	}
	if err := cost.ValidatePrice(p); err != nil {
		return p, badRequestf("%v", err)
	}
	return p, nil
}

func (s *Server) createPrice(w http.ResponseWriter, r *http.Request) {
	project, err := s.cfg.Project(r)
	if err != nil {
		http.Error(w, "sign in required", http.StatusUnauthorized)
		return
	}
	f := priceForm{
		Provider: r.PostFormValue("provider"), Model: r.PostFormValue("model"), MatchType: r.PostFormValue("match_type"),
		Input: r.PostFormValue("input_per_mtok"), Output: r.PostFormValue("output_per_mtok"),
		CacheRead: r.PostFormValue("cache_read_per_mtok"), CacheWrite: r.PostFormValue("cache_write_per_mtok"),
		EffectiveFrom: r.PostFormValue("effective_from"),
	}
	req := &request{Request: r, Project: project, Now: s.cfg.Now().UTC()}
	p, err := parsePrice(f)
	if err == nil {
		p.ID = "custom-" + uuid.Must(uuid.NewV7()).String()
		p.ProjectID, p.Source, p.CreatedAt = project, "custom", req.Now
		err = s.store.PutPrice(r.Context(), p)
	}
	if err != nil {
		if _, ok := err.(*badRequest); !ok {
			s.render(w, r, project, s.errorView(r, err))
			return
		}
		f.Error = err.Error()
		v, verr := s.costView(r.Context(), req, f)
		if verr != nil {
			v = s.errorView(r, verr)
		}
		s.render(w, r, project, v)
		return
	}
	if s.pricing != nil {
		s.pricing.Invalidate(project)
	}
	http.Redirect(w, r, "/cost?saved="+url.QueryEscape(p.ID)+"#prices", http.StatusSeeOther)
}

func (s *Server) deletePrice(w http.ResponseWriter, r *http.Request) {
	project, err := s.cfg.Project(r)
	if err != nil {
		http.Error(w, "sign in required", http.StatusUnauthorized)
		return
	}
	id := r.PathValue("id")
	if err := s.store.DeletePrice(r.Context(), project, id); err != nil {
		s.render(w, r, project, s.errorView(r, err))
		return
	}
	if s.pricing != nil {
		s.pricing.Invalidate(project)
	}
	http.Redirect(w, r, "/cost?deleted="+url.QueryEscape(id)+"#prices", http.StatusSeeOther)
}
