package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/inkflow/inkflow/engine"
)

// BuiltinConfig configures the generic kinds. It is passed in by main, never read from the
// environment here.
type BuiltinConfig struct {
	// AllowPrivateWebhooks lets webhook actions reach loopback, link-local and private
	// addresses (INKFLOW_WEBHOOK_ALLOW_PRIVATE=1); off, such requests are refused.
	AllowPrivateWebhooks bool
	// Logger receives log actions' messages (default slog.Default()).
	Logger *slog.Logger
	// CheckEventName, when set, refuses event names send_event may not send (the blog's
	// blog-post.* events come only from the CMS): on save for a literal name, and at run
	// time for a name that came from a ref.
	CheckEventName func(name string) error
}

// RegisterBuiltins adds the generic kinds usable in any workflow: sleep, wait_for_event,
// send_event, webhook, set_state, log, and workflow-kit's builtin:if.
func RegisterBuiltins(r *Registry, cfg BuiltinConfig) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return r.Register(
		sleepKind(),
		waitKind(),
		sendEventKind(cfg.CheckEventName),
		webhookKind(cfg.AllowPrivateWebhooks),
		setStateKind(),
		logKind(cfg.Logger),
		ifKind(),
	)
}

func sleepKind() Kind {
	return Kind{
		Name:        "sleep",
		Category:    CategoryFlow,
		Title:       "Sleep",
		Description: "Pause the run for a duration, or until a time. The run leaves the worker while it sleeps.",
		Inputs: []InputSpec{
			{Name: "duration", Title: "Duration", Type: TypeDuration, Description: `How long to sleep, such as "90s", "1h30m" or "7d".`},
			{Name: "until", Title: "Until", Type: TypeString, Description: "A time to sleep until: RFC 3339 text or Unix milliseconds, usually a ref."},
		},
		Steps: true,
		Validate: func(a Action) map[string]string {
			if isEmpty(a.Inputs["duration"]) == isEmpty(a.Inputs["until"]) {
				return map[string]string{"duration": "set either duration or until"}
			}
			if s, ok := a.Inputs["until"].(string); ok && !strings.Contains(s, refPrefix) {
				t, err := timeValue(s)
				if err != nil {
					return map[string]string{"until": err.Error()}
				}
				if time.Until(t) > engine.MaxSleep {
					return map[string]string{"until": fmt.Sprintf("%s is more than 10 years away", s)}
				}
			}
			return nil
		},
		Handler: func(ctx context.Context, in ActionInput) (any, error) {
			d, ok, err := in.Duration("duration")
			if err != nil {
				return nil, err
			}
			if ok {
				return nil, in.Step.Sleep(ctx, in.StepID, d)
			}
			t, err := timeValue(in.Inputs["until"])
			if err != nil {
				return nil, engine.NonRetriable(engine.FieldError("inputs.until", "%v", err))
			}
			return nil, in.Step.SleepUntil(ctx, in.StepID, t)
		},
	}
}

func waitKind() Kind {
	return Kind{
		Name:        "wait_for_event",
		Category:    CategoryFlow,
		Title:       "Wait for event",
		Description: "Wait until an event arrives (matching the trigger on a field, or a CEL condition) or the timeout passes. Output: the event, or null on timeout.",
		Inputs: []InputSpec{
			{Name: "event", Title: "Event name", Type: TypeEvent, Required: true},
			{Name: "match", Title: "Match field", Type: TypeString, Description: `A dotted path such as "data.id" whose value must equal the triggering event's.`},
			{Name: "if", Title: "Condition (CEL)", Type: TypeText, Description: "A CEL expression over event (the trigger) and async (the candidate), such as async.data.id == event.data.id."},
			{Name: "timeout", Title: "Timeout", Type: TypeDuration, Default: "7d"},
		},
		Output: &Shape{Type: "object", Nullable: true, Description: "The event that arrived, or null on timeout.", Fields: map[string]*Shape{
			"name": {Type: "string"}, "data": {Type: "object"}, "id": {Type: "string"}, "ts": {Type: "number"},
		}},
		Edges: []EdgePreset{
			{Name: "Received", Conditional: &Conditional{Type: CondIf, Ref: "!ref($.output)"}},
			{Name: "Timed out", Conditional: &Conditional{Type: CondElse, Ref: "!ref($.output)"}},
		},
		Steps: true,
		Validate: func(a Action) map[string]string {
			m, _ := a.Inputs["match"].(string)
			src, _ := a.Inputs["if"].(string)
			if m != "" && src != "" {
				return map[string]string{"if": "set match or if, not both"}
			}
			if m != "" && !strings.Contains(m, refPrefix) && !matchPathRE.MatchString(m) {
				return map[string]string{"match": fmt.Sprintf("%q is not a dotted path such as data.id", m)}
			}
			if src != "" && !strings.Contains(src, refPrefix) {
				if err := compileWaitCEL(src); err != nil {
					return map[string]string{"if": err.Error()}
				}
			}
			return nil
		},
		Handler: func(ctx context.Context, in ActionInput) (any, error) {
			timeout, _, err := in.Duration("timeout")
			if err != nil {
				return nil, err
			}
			ev, err := in.Step.WaitForEvent(ctx, in.StepID, engine.Wait{
				Event: in.String("event"), Match: in.String("match"), If: in.String("if"), Timeout: timeout,
			})
			if err != nil || ev == nil {
				return nil, err
			}
			return ev, nil
		},
	}
}

var matchPathRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$`)

// compileWaitCEL checks a wait condition in the engine's environment (event and async).
func compileWaitCEL(src string) error {
	env, err := cel.NewEnv(
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("async", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		return err
	}
	if _, iss := env.Compile(src); iss != nil && iss.Err() != nil {
		return fmt.Errorf("CEL: %v", iss.Err())
	}
	return nil
}

func sendEventKind(blogCheck func(string) error) Kind {
	// A workflow sends as nobody in particular: never the engine's names (an admin's
	// workflow whose name comes from a ref could otherwise fake inkflow/run.failed), in any
	// case, nor what blogCheck refuses.
	check := func(name string) error {
		if p := engine.ReservedPrefix(name); p != "" {
			return engine.FieldError("name", "%q is reserved for inkflow's own events: a workflow cannot send %s", p, name)
		}
		if blogCheck != nil {
			return blogCheck(name)
		}
		return nil
	}
	return Kind{
		Name:        "send_event",
		Category:    CategoryConnect,
		Title:       "Send event",
		Description: "Send an event (once, even if the run is replayed); it may start other workflows.",
		Inputs: []InputSpec{
			{Name: "name", Title: "Event name", Type: TypeEvent, Required: true},
			{Name: "data", Title: "Data", Type: TypeJSON, Description: "A JSON object; refs inside are resolved."},
			{Name: "id", Title: "Event id", Type: TypeString, Description: "Optional id that deduplicates the event for 24 hours."},
		},
		Output: &Shape{Type: "object", Fields: map[string]*Shape{"ids": {Type: "array", Items: &Shape{Type: "string"}}}},
		Steps:  true,
		Validate: func(a Action) map[string]string {
			if name, ok := a.Inputs["name"].(string); ok && !strings.Contains(name, refPrefix) {
				if err := check(name); err != nil {
					return map[string]string{"name": strings.TrimPrefix(engine.ErrorMessage(err), "name: ")}
				}
			}
			switch d := a.Inputs["data"].(type) {
			case nil, map[string]any:
			case string:
				if _, ok := pureRef(d); !ok {
					return map[string]string{"data": "must be a JSON object or a single ref"}
				}
			default:
				return map[string]string{"data": "must be a JSON object"}
			}
			return nil
		},
		Handler: func(ctx context.Context, in ActionInput) (any, error) {
			data, ok := in.Inputs["data"].(map[string]any)
			if !ok && in.Inputs["data"] != nil {
				return nil, engine.NonRetriable(engine.FieldError("inputs.data", "resolved to %s, not an object", jsonType(in.Inputs["data"])))
			}
			if err := check(in.String("name")); err != nil {
				return nil, engine.NonRetriable(err)
			}
			ids, err := in.Step.SendEvent(ctx, in.StepID, engine.Event{ID: in.String("id"), Name: in.String("name"), Data: data})
			if err != nil {
				return nil, err
			}
			return map[string]any{"ids": ids}, nil
		},
	}
}

func setStateKind() Kind {
	return Kind{
		Name:        "set_state",
		Category:    CategoryData,
		Title:       "Set state",
		Description: "Compute values (literals and refs) that later actions read as $.state.<id>.<key>.",
		Inputs: []InputSpec{
			{Name: "values", Title: "Values", Type: TypeJSON, Required: true, Description: "A JSON object; refs inside are resolved."},
		},
		Output: &Shape{Type: "object", Description: "The resolved values."},
		Validate: func(a Action) map[string]string {
			if _, ok := a.Inputs["values"].(map[string]any); !ok && a.Inputs["values"] != nil {
				return map[string]string{"values": "must be a JSON object"}
			}
			return nil
		},
		Handler: func(ctx context.Context, in ActionInput) (any, error) {
			return in.Inputs["values"], nil
		},
	}
}

func logKind(logger *slog.Logger) Kind {
	return Kind{
		Name:        "log",
		Category:    CategoryData,
		Title:       "Log",
		Description: "Write a message (with refs) to the server log and the run's steps.",
		Inputs: []InputSpec{
			{Name: "message", Title: "Message", Type: TypeText, Required: true},
			{Name: "level", Title: "Level", Type: TypeEnum, Enum: []string{"info", "warn", "error"}, Default: "info"},
		},
		Output: &Shape{Type: "object", Fields: map[string]*Shape{"message": {Type: "string"}, "level": {Type: "string"}}},
		Handler: func(ctx context.Context, in ActionInput) (any, error) {
			level := map[string]slog.Level{"info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[in.String("level")]
			logger.Log(ctx, level, in.String("message"), "run", in.Run.ID, "workflow", in.Run.Meta.WorkflowID, "action", in.Action.ID)
			return map[string]any{"message": in.String("message"), "level": in.String("level")}, nil
		},
	}
}

func ifKind() Kind {
	return Kind{
		Name:        "builtin:if",
		Category:    CategoryFlow,
		Title:       "If",
		Description: "If / else branch: evaluates a JSON-logic condition (as workflow-kit) or a \"cel:\" expression over event and state. Output: {result}.",
		Inputs: []InputSpec{
			{Name: "condition", Title: "Condition", Type: TypeJSON, Description: `JSON-logic such as {"==": ["!ref($.event.data.lang)", "en"]}, or "cel: event.data.lang == 'en'". Empty means true.`},
		},
		Output: &Shape{Type: "object", Fields: map[string]*Shape{"result": {Type: "boolean"}}},
		Edges: []EdgePreset{
			{Name: "True", Conditional: &Conditional{Type: CondIf, Ref: "!ref($.output.result)"}},
			{Name: "False", Conditional: &Conditional{Type: CondElse, Ref: "!ref($.output.result)"}},
		},
		Validate: func(a Action) map[string]string {
			c := a.Inputs["condition"]
			if s, ok := c.(string); ok {
				if src, isCEL := strings.CutPrefix(strings.TrimSpace(s), celPrefix); isCEL {
					if _, err := compileCEL(src); err != nil {
						return map[string]string{"condition": err.Error()}
					}
				}
				return nil
			}
			if err := checkLogic(c); err != nil {
				return map[string]string{"condition": err.Error()}
			}
			return nil
		},
		Handler: func(ctx context.Context, in ActionInput) (any, error) {
			c := in.Inputs["condition"]
			if s, ok := c.(string); ok {
				if src, isCEL := strings.CutPrefix(strings.TrimSpace(s), celPrefix); isCEL {
					v, err := evalCEL(src, scope{RootEvent: eventValue(in.Event), RootState: in.State})
					if err != nil {
						return nil, err
					}
					return map[string]any{"result": truthy(v)}, nil
				}
			}
			if c == nil {
				return map[string]any{"result": true}, nil
			}
			v, err := applyLogic(c, map[string]any{RootEvent: eventValue(in.Event), RootState: in.State})
			if err != nil {
				return nil, engine.NonRetriable(engine.FieldError("inputs.condition", "%v", err))
			}
			return map[string]any{"result": truthy(v)}, nil
		},
	}
}
