package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/use-lumina/lumina/internal/api"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/llm"
	"github.com/use-lumina/lumina/internal/quality"
	"github.com/use-lumina/lumina/internal/replay"
)

// startReplay serves the replay API on the replay listener and runs replay jobs until
// the listener shuts down; runs left unfinished are resumed by the next start.
func (a *app) startReplay(ctx context.Context) error {
	if a.cfg.ReplayAddr == "off" {
		return nil
	}
	llmCfg := llm.Config{
		AnthropicAPIKey: a.cfg.AnthropicAPIKey, AnthropicBaseURL: a.cfg.AnthropicBaseURL,
		OpenAIAPIKey: a.cfg.OpenAIAPIKey, OpenAIBaseURL: a.cfg.OpenAIBaseURL,
	}
	svc, err := replay.New(replay.Config{
		Store:     a.store,
		Providers: &replayProviders{cfg: llmCfg, clients: map[string]llm.Client{}},
		Pricer:    a.calc,
		Hash: func(x, y string) (float64, string) {
			s := quality.CharSimilarity(x, y)
			return *s.Score, s.Method
		},
		Semantic: replaySemantic(llmCfg),
		Logger:   a.log.With("component", "replay"),
	})
	if err != nil {
		return err
	}
	a.replay = svc // Replay Studio on the web role, when it runs in this process
	mux := a.mux(roleReplay)
	srv := api.New(a.store, a.auth.Project, genai.AttachLogs, a.log)
	if err := srv.TrustOrigins(a.cfg.corsOrigins); err != nil {
		return err
	}
	srv.RegisterReplay(mux, svc)
	if err := a.listenHTTP(roleReplay, a.cfg.ReplayAddr, api.CORS(a.cfg.corsOrigins, mux)); err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// Shutting the replay listener down stops the runs; shutdown then waits for them
	// (a.wg) before it closes the store.
	a.servers[len(a.servers)-1].RegisterOnShutdown(cancel)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer cancel()
		if err := svc.Run(rctx); err != nil {
			a.errs <- fmt.Errorf("replay: %w", err)
		}
	}()
	return nil
}

// replaySemantic scores replay answers by embeddings when an OpenAI key is configured; nil
// (reported as not configured) otherwise.
func replaySemantic(cfg llm.Config) replay.SemanticFunc {
	if cfg.OpenAIAPIKey == "" {
		return nil
	}
	client, err := llm.NewOpenAI(cfg)
	if err != nil {
		return nil
	}
	sem := quality.Semantic{Embedder: client, Model: llm.DefaultEmbeddingModel}
	return func(ctx context.Context, x, y string) (*float64, string, string) {
		s, err := sem.Similarity(ctx, x, y)
		note := s.Note
		if err != nil {
			note = err.Error()
		}
		return s.Score, s.Method, note
	}
}

// replayProviders adapts internal/llm to replay.Providers, one client per provider and
// base URL.
type replayProviders struct {
	cfg     llm.Config
	mu      sync.Mutex
	clients map[string]llm.Client
}

func (p *replayProviders) Provider(name, baseURL string) (replay.Provider, error) {
	if name != llm.ProviderOpenAICompatible {
		baseURL = ""
	}
	key := name + " " + baseURL
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[key]; ok {
		return replayClient{c}, nil
	}
	c, err := p.cfg.New(name, baseURL)
	if errors.Is(err, llm.ErrMissingKey) {
		return nil, fmt.Errorf("%w: %w", err, replay.ErrMissingKey)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, replay.ErrInvalid)
	}
	p.clients[key] = c
	return replayClient{c}, nil
}

// replayClient is an llm.Client seen as a replay.Provider.
type replayClient struct{ c llm.Client }

func (rc replayClient) Chat(ctx context.Context, req replay.Request) (replay.Response, error) {
	lr := llm.Request{Model: req.Model, System: req.System, MaxTokens: req.MaxTokens, Temperature: req.Temperature,
		TopP: req.TopP, Stop: req.Stop, JSONObject: req.JSONObject}
	for _, m := range req.Messages {
		msg := llm.Message{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, Name: m.Name}
		for _, tc := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
		}
		lr.Messages = append(lr.Messages, msg)
	}
	for _, t := range req.Tools {
		lr.Tools = append(lr.Tools, llm.Tool{Name: t.Name, Description: t.Description, Parameters: t.Parameters})
	}
	resp, err := rc.c.Chat(ctx, lr)
	if err != nil {
		return replay.Response{}, err // *llm.Error implements Temporary
	}
	out := replay.Response{Model: resp.Model, Text: resp.Text, Usage: resp.Usage, Latency: resp.Latency,
		Attempts: resp.Attempts, Dropped: resp.Dropped}
	for _, tc := range resp.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, genai.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
	}
	return out, nil
}
