package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// demoConfig is `lumina demo`'s flags.
type demoConfig struct {
	endpoint, apiKey string
	rate             float64
	duration         time.Duration
	spikeAt, dropAt  time.Duration
}

// demoCommand sends realistic GenAI traffic to a running Lumina over OTLP/HTTP: three
// services with RAG pipelines, tool calls, sessions and users on several models, then a
// cost spike on one endpoint and a quality drop on another, so the dashboard fills and
// alerts fire within a couple of minutes.
func demoCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c demoConfig
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.endpoint, "endpoint", "http://localhost:4318", "Lumina's OTLP/HTTP base URL")
	fs.StringVar(&c.apiKey, "api-key", "", "project API key, when the server runs with AUTH_REQUIRED=true (env LUMINA_API_KEY)")
	fs.Float64Var(&c.rate, "rate", 4, "traces per second")
	fs.DurationVar(&c.duration, "duration", 0, "stop after this long (0: until interrupted)")
	fs.DurationVar(&c.spikeAt, "spike-at", 60*time.Second, "when the cost spike on support-bot starts")
	fs.DurationVar(&c.dropAt, "drop-at", 90*time.Second, "when the quality drop on summarizer starts")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: lumina demo [flags]\n\nSends demo traffic to a running Lumina (start one with `lumina serve`), then open\nhttp://localhost:3000. A cost spike and a quality drop raise alerts after about a minute.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.rate <= 0 || c.rate > 1000 {
		return errors.New("--rate: want 0 < rate ≤ 1000 traces per second")
	}
	if c.apiKey == "" {
		c.apiKey = getenv("LUMINA_API_KEY")
	}
	url := strings.TrimRight(c.endpoint, "/") + "/v1/traces"
	if c.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.duration)
		defer cancel()
	}
	fmt.Fprintf(stdout, "sending %.0f traces/s to %s; open http://localhost:3000 (Ctrl-C stops)\n", c.rate, url)
	fmt.Fprintf(stdout, "  at %s: a cost spike on support-bot (25x the context per call)\n", c.spikeAt)
	fmt.Fprintf(stdout, "  at %s: a quality drop on summarizer (the model starts refusing)\n", c.dropAt)

	g := newDemoGen(mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64())))
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / c.rate))
	defer tick.Stop()
	var sent, failed int
	announced := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(stdout, "sent %d traces (%d failed)\n", sent, failed)
			return nil
		case <-tick.C:
		}
		el := time.Since(start)
		spike, drop := el >= c.spikeAt && el < c.spikeAt+45*time.Second, el >= c.dropAt && el < c.dropAt+60*time.Second
		for name, on := range map[string]bool{"cost spike": spike, "quality drop": drop} {
			if on && !announced[name] {
				announced[name] = true
				fmt.Fprintf(stdout, "%4.0fs %s started; alerts appear at http://localhost:3000/alerts\n", el.Seconds(), name)
			}
		}
		body, err := ptraceotlp.NewExportRequestFromTraces(g.trace(time.Now(), spike, drop)).MarshalProto()
		if err != nil {
			return fmt.Errorf("encode demo trace: %w", err)
		}
		if err := demoSend(ctx, client, url, c.apiKey, body); err != nil {
			if ctx.Err() != nil {
				continue
			}
			failed++
			if failed == 1 || failed%50 == 0 {
				fmt.Fprintf(stderr, "send failed (%d so far): %v\n", failed, err)
			}
			continue
		}
		sent++
		if sent%100 == 0 {
			fmt.Fprintf(stdout, "%4.0fs %d traces sent\n", el.Seconds(), sent)
		}
	}
}

func demoSend(ctx context.Context, client *http.Client, url, key string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s %s", url, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// demoService is one application of the demo: its endpoint, model and conversations.
type demoService struct {
	name, route, provider, model, system string
	rag, tool                            bool
	qa                                   []demoQA
}

// demoQA is a question with answers that say the same thing in other words.
type demoQA struct {
	question string
	answers  []string
}

var demoServices = []demoService{
	{name: "support-bot", route: "POST /v1/chat", provider: "openai", model: "gpt-4o-mini", rag: true, tool: true,
		system: "You are the support assistant of an online shop. Answer from the provided order and policy documents only.",
		qa: []demoQA{
			{"Where is my order #4521? It was supposed to arrive yesterday.", []string{
				"Your order #4521 left our warehouse on Monday and is with the carrier now. The tracking shows a one-day delay; it should arrive tomorrow.",
				"Order #4521 shipped on Monday and is in transit. The carrier reports a delay of one day, so expect it tomorrow.",
			}},
			{"Can I return shoes I bought three weeks ago?", []string{
				"Yes. Returns are accepted within 30 days of delivery if the shoes are unworn. Start the return from your orders page to get a free label.",
				"You can: our policy allows returns within 30 days for unworn items. Open your orders page and choose Return to print a free label.",
			}},
			{"How do I change the delivery address of an order?", []string{
				"If the order has not shipped, open it in your account and choose Edit address. Once shipped, the carrier can redirect it from the tracking page.",
				"Before shipping you can edit the address from the order page in your account; after shipping, use the carrier's redirect option on the tracking page.",
			}},
		}},
	{name: "search-api", route: "GET /search", provider: "anthropic", model: "claude-haiku-4-5", rag: true,
		system: "Rewrite the user's query for a product search engine and list the three most relevant filters as JSON.",
		qa: []demoQA{
			{"waterproof hiking boots for women under 150", []string{
				`{"query":"women waterproof hiking boots","filters":{"price_max":150,"category":"boots","gender":"women"}}`,
				`{"query":"waterproof hiking boots women","filters":{"price_max":150,"gender":"women","category":"boots"}}`,
			}},
			{"cheap noise cancelling headphones", []string{
				`{"query":"noise cancelling headphones","filters":{"sort":"price_asc","category":"headphones","feature":"anc"}}`,
				`{"query":"budget noise cancelling headphones","filters":{"category":"headphones","feature":"anc","sort":"price_asc"}}`,
			}},
		}},
	{name: "summarizer", route: "POST /summaries", provider: "openai", model: "gpt-4o",
		system: "Summarize the support ticket in two sentences for the agent who picks it up.",
		qa: []demoQA{
			{"Ticket 8812: customer reports the mobile app crashes when opening the cart after the 3.2 update; reinstalling did not help.", []string{
				"The mobile app crashes when the customer opens the cart since update 3.2. Reinstalling did not fix it.",
				"Since the 3.2 update, opening the cart crashes the mobile app for this customer; a reinstall did not help.",
			}},
			{"Ticket 8830: invoice for October was charged twice to the same card; customer wants one refunded.", []string{
				"The October invoice was charged twice to the customer's card. They want one of the charges refunded.",
				"The customer was billed twice for October on one card and asks for a refund of the duplicate.",
			}},
		}},
}

// demoGen builds the demo's traces.
type demoGen struct {
	rng   *mrand.Rand
	users []string
}

func newDemoGen(rng *mrand.Rand) *demoGen {
	g := &demoGen{rng: rng}
	for _, u := range []string{"ana", "bo", "chen", "dara", "eli", "femi", "gus", "hana"} {
		g.users = append(g.users, "user-"+u)
	}
	return g
}

func (g *demoGen) id16() (id pcommon.TraceID) { _, _ = rand.Read(id[:]); return id }
func (g *demoGen) id8() (id pcommon.SpanID)   { _, _ = rand.Read(id[:]); return id }

// trace is one request of a random service: a server span, retrieval for RAG services,
// the LLM call, and a tool call for agents. spike inflates support-bot's context; drop
// makes summarizer refuse.
func (g *demoGen) trace(now time.Time, spike, drop bool) ptrace.Traces {
	svc := demoServices[g.rng.IntN(len(demoServices))]
	qa := svc.qa[g.rng.IntN(len(svc.qa))]
	user := g.users[g.rng.IntN(len(g.users))]
	session := fmt.Sprintf("sess-%s-%d", user, now.Unix()/300) // a conversation per user per 5 minutes

	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", svc.name)
	rs.Resource().Attributes().PutStr("deployment.environment.name", "demo")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("lumina-demo")
	spans := ss.Spans()
	tid := g.id16()
	start := now.Add(-time.Duration(800+g.rng.IntN(2500)) * time.Millisecond)
	root := spans.AppendEmpty()
	root.SetTraceID(tid)
	root.SetSpanID(g.id8())
	root.SetName(svc.route)
	root.SetKind(ptrace.SpanKindServer)
	root.Attributes().PutStr("http.request.method", strings.Fields(svc.route)[0])
	root.Attributes().PutStr("http.route", strings.Fields(svc.route)[1])
	at := start.Add(2 * time.Millisecond)
	docs := ""
	if svc.rag {
		r := spans.AppendEmpty()
		r.SetTraceID(tid)
		r.SetSpanID(g.id8())
		r.SetParentSpanID(root.SpanID())
		r.SetName("retrieve documents")
		r.SetKind(ptrace.SpanKindClient)
		r.Attributes().PutStr("db.system.name", "pgvector")
		r.Attributes().PutInt("retrieval.documents", 4)
		r.SetStartTimestamp(pcommon.NewTimestampFromTime(at))
		at = at.Add(time.Duration(20+g.rng.IntN(60)) * time.Millisecond)
		r.SetEndTimestamp(pcommon.NewTimestampFromTime(at))
		docs = "\n\nDocuments:\n" + strings.Repeat("Order and policy excerpt relevant to the question. ", 12)
	}
	inTokens := 60 + len(svc.system)/4 + len(qa.question)/4 + len(docs)/4
	if spike && svc.name == "support-bot" {
		docs += strings.Repeat(" Full order history and every policy page, pasted by a prompt bug.", 40)
		inTokens *= 25
	}
	answer := qa.answers[g.rng.IntN(len(qa.answers))]
	finish := "stop"
	if drop && svc.name == "summarizer" {
		answer, finish = "I'm sorry, but I can't help with that request.", "content_filter"
	}

	llm := spans.AppendEmpty()
	llm.SetTraceID(tid)
	llm.SetSpanID(g.id8())
	llm.SetParentSpanID(root.SpanID())
	llm.SetName("chat " + svc.model)
	llm.SetKind(ptrace.SpanKindClient)
	a := llm.Attributes()
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutStr("gen_ai.provider.name", svc.provider)
	a.PutStr("gen_ai.request.model", svc.model)
	a.PutStr("gen_ai.response.model", svc.model)
	a.PutDouble("gen_ai.request.temperature", 0.2)
	a.PutStr("gen_ai.conversation.id", session)
	a.PutStr("session.id", session)
	a.PutStr("user.id", user)
	type part struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	}
	type msg struct {
		Role         string `json:"role"`
		Parts        []part `json:"parts"`
		FinishReason string `json:"finish_reason,omitempty"`
	}
	in, _ := json.Marshal([]msg{{Role: "system", Parts: []part{{"text", svc.system}}}, {Role: "user", Parts: []part{{"text", qa.question + docs}}}})
	out, _ := json.Marshal([]msg{{Role: "assistant", Parts: []part{{"text", answer}}, FinishReason: finish}})
	a.PutStr("gen_ai.input.messages", string(in))
	a.PutStr("gen_ai.output.messages", string(out))
	a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr(finish)
	a.PutInt("gen_ai.usage.input_tokens", int64(inTokens))
	a.PutInt("gen_ai.usage.output_tokens", int64(len(answer)/4+5))
	llm.SetStartTimestamp(pcommon.NewTimestampFromTime(at))
	at = at.Add(time.Duration(300+g.rng.IntN(1800)) * time.Millisecond)
	if g.rng.IntN(40) == 0 { // the provider's rate limit, now and then
		a.PutStr("error.type", "rate_limit_exceeded")
		llm.Status().SetCode(ptrace.StatusCodeError)
		llm.Status().SetMessage("429 Too Many Requests")
	}
	llm.SetEndTimestamp(pcommon.NewTimestampFromTime(at))

	if svc.tool {
		tool := spans.AppendEmpty()
		tool.SetTraceID(tid)
		tool.SetSpanID(g.id8())
		tool.SetParentSpanID(root.SpanID())
		tool.SetName("execute_tool lookup_order")
		tool.Attributes().PutStr("gen_ai.operation.name", "execute_tool")
		tool.Attributes().PutStr("gen_ai.tool.name", "lookup_order")
		tool.SetStartTimestamp(pcommon.NewTimestampFromTime(at))
		at = at.Add(time.Duration(15+g.rng.IntN(40)) * time.Millisecond)
		tool.SetEndTimestamp(pcommon.NewTimestampFromTime(at))
	}
	root.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	root.SetEndTimestamp(pcommon.NewTimestampFromTime(at.Add(3 * time.Millisecond)))
	return td
}
