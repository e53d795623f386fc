package ai

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/inkflow/inkflow/engine"
)

// openAIProvider asks an OpenAI-compatible chat completions server.
type openAIProvider struct {
	client   *openai.Client
	model    string
	timeout  time.Duration
	attempts int
	prompts  *template.Template
	// plainJSON is set once the server refused a JSON-schema response format (older vLLM,
	// Ollama and proxies do); later calls ask for a plain JSON object instead.
	plainJSON atomic.Bool
}

func newOpenAI(cfg Config) *openAIProvider {
	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	oc.HTTPClient = headerRecorder{&http.Client{}}
	p := &openAIProvider{
		client:   openai.NewClientWithConfig(oc),
		model:    cfg.Model,
		timeout:  cfg.Timeout,
		attempts: cfg.Attempts,
		prompts:  parsePrompts(),
	}
	if p.model == "" {
		p.model = DefaultModel
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.attempts <= 0 {
		p.attempts = DefaultAttempts
	}
	return p
}

func (p *openAIProvider) Name() string  { return ProviderOpenAI }
func (p *openAIProvider) Model() string { return p.model }

// TOC asks the model to word one entry per heading.
func (p *openAIProvider) TOC(ctx context.Context, req TOCRequest) (*TOCAnswer, error) {
	var out TOCAnswer
	usage, err := p.ask(ctx, task{
		name: "toc", schema: tocSchema,
		data: promptData{Post: req.Post, Inputs: req.Inputs, Headings: req.Headings},
		accept: func(content string) error {
			out = TOCAnswer{}
			if err := decodeAnswer(content, &out); err != nil {
				return err
			}
			return checkTOC(&out, req.Headings)
		},
	})
	if err != nil {
		return nil, err
	}
	out.Usage = usage
	return &out, nil
}

// Grammar asks the model for the revised markdown and its list of changes.
func (p *openAIProvider) Grammar(ctx context.Context, req GrammarRequest) (*GrammarAnswer, error) {
	var out GrammarAnswer
	usage, err := p.ask(ctx, task{
		name: "grammar", schema: grammarSchema,
		data: promptData{Post: req.Post, Inputs: req.Inputs},
		accept: func(content string) error {
			out = GrammarAnswer{}
			if err := decodeAnswer(content, &out); err != nil {
				return err
			}
			return checkGrammar(&out, req.Post.Markdown)
		},
	})
	if err != nil {
		return nil, err
	}
	out.Usage = usage
	return &out, nil
}

// Social asks the model for req.Count posts within the network's limit.
func (p *openAIProvider) Social(ctx context.Context, req SocialRequest) (*SocialAnswer, error) {
	var out SocialAnswer
	usage, err := p.ask(ctx, task{
		name: "social", schema: socialSchema,
		data: promptData{Post: req.Post, Inputs: req.Inputs, Network: req.Network, Count: req.Count,
			Tone: req.Tone, MaxChars: req.Network.MaxChars()},
		accept: func(content string) error {
			out = SocialAnswer{}
			if err := decodeAnswer(content, &out); err != nil {
				return err
			}
			return checkSocial(&out, req)
		},
	})
	if err != nil {
		return nil, err
	}
	out.Usage = usage
	return &out, nil
}

// task is one question: its templates and schema, and accept, which decodes and validates
// an answer (an error asks the model again, quoting the error).
type task struct {
	name   string
	schema string
	data   promptData
	accept func(content string) error
}

// ask sends the task's prompts and asks again, up to p.attempts answers, while the answer is
// malformed. Usage is summed over all answers, since each one was paid for.
func (p *openAIProvider) ask(ctx context.Context, t task) (Usage, error) {
	usage := Usage{Provider: ProviderOpenAI, Model: p.model}
	system, err := render(p.prompts, t.name+".system", t.data)
	if err != nil {
		return usage, engine.NonRetriable(err)
	}
	user, err := render(p.prompts, t.name+".user", t.data)
	if err != nil {
		return usage, engine.NonRetriable(err)
	}
	msgs := []openai.ChatCompletionMessage{
		{Role: openai.ChatMessageRoleSystem, Content: system},
		{Role: openai.ChatMessageRoleUser, Content: user},
	}
	var problem error
	for attempt := 1; attempt <= p.attempts; attempt++ {
		resp, err := p.complete(ctx, t, msgs)
		if err != nil {
			return usage, err
		}
		usage.add(resp)
		var content string
		content, problem = answerText(resp)
		if problem == nil {
			problem = t.accept(content)
		}
		if problem == nil {
			return usage, nil
		}
		again, err := render(p.prompts, "retry", problem.Error())
		if err != nil {
			return usage, engine.NonRetriable(err)
		}
		msgs = append(msgs,
			openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: content},
			openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: again})
	}
	return usage, engine.NonRetriable(engine.Errorf(engine.EUnavailable,
		"AI model %s gave no usable %s answer in %d attempts: %v", p.model, t.name, p.attempts, problem))
}

// complete makes one chat completion call with the per-call timeout. When the server refuses
// the JSON-schema response format it repeats the call once in plain JSON mode.
func (p *openAIProvider) complete(ctx context.Context, t task, msgs []openai.ChatCompletionMessage) (openai.ChatCompletionResponse, error) {
	for {
		plain := p.plainJSON.Load()
		req := openai.ChatCompletionRequest{Model: p.model, Messages: msgs, ResponseFormat: responseFormat(t, plain)}
		var header http.Header
		callCtx, cancel := context.WithTimeout(withHeaderSink(ctx, &header), p.timeout)
		resp, err := p.client.CreateChatCompletion(callCtx, req)
		cancel()
		if err == nil {
			return resp, nil
		}
		if !plain && schemaRefused(err) {
			p.plainJSON.Store(true)
			continue
		}
		return resp, classify(ctx, err, header, p)
	}
}

// responseFormat is a strict JSON schema, or a plain JSON object where schemas are refused.
func responseFormat(t task, plain bool) *openai.ChatCompletionResponseFormat {
	if plain {
		return &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	}
	return &openai.ChatCompletionResponseFormat{
		Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
		JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
			Name:   t.name,
			Schema: rawSchema(t.schema),
			Strict: true,
		},
	}
}

// rawSchema sends a schema verbatim.
type rawSchema string

func (s rawSchema) MarshalJSON() ([]byte, error) { return []byte(s), nil }

// answerText returns the first choice's text, or why there is none worth decoding.
func answerText(resp openai.ChatCompletionResponse) (string, error) {
	if len(resp.Choices) == 0 {
		return "", fmt.Errorf("the answer had no choices")
	}
	c := resp.Choices[0]
	if c.Message.Refusal != "" {
		return "", fmt.Errorf("the model refused: %s", c.Message.Refusal)
	}
	if c.FinishReason == openai.FinishReasonLength {
		return c.Message.Content, fmt.Errorf("the answer was cut off at the model's output limit")
	}
	return c.Message.Content, nil
}

// add sums one response's tokens and records the model the server says answered.
func (u *Usage) add(resp openai.ChatCompletionResponse) {
	u.PromptTokens += resp.Usage.PromptTokens
	u.CompletionTokens += resp.Usage.CompletionTokens
	u.TotalTokens += resp.Usage.TotalTokens
	if resp.Model != "" {
		u.Model = resp.Model
	}
}

// headerSinkKey carries a *http.Header into the HTTP client, so that the response headers of
// a failed call (Retry-After), which go-openai does not return with its errors, reach classify.
type headerSinkKey struct{}

func withHeaderSink(ctx context.Context, h *http.Header) context.Context {
	return context.WithValue(ctx, headerSinkKey{}, h)
}

// headerRecorder is go-openai's HTTP client; it copies response headers into the sink.
type headerRecorder struct{ c *http.Client }

func (r headerRecorder) Do(req *http.Request) (*http.Response, error) {
	res, err := r.c.Do(req)
	if res != nil {
		if sink, ok := req.Context().Value(headerSinkKey{}).(*http.Header); ok {
			*sink = res.Header.Clone()
		}
	}
	return res, err
}
