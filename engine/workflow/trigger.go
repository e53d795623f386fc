package workflow

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/inkflow/inkflow/engine"
)

// CronPrefix starts a scheduled trigger: "cron: [TZ=Area/City ]<five-field cron expression>".
const CronPrefix = "cron:"

// ScheduledEvent is the event the cron scheduler sends for a scheduled workflow's tick, with
// data {workflow_id, tick}; it starts a run of that workflow only.
const ScheduledEvent = "inkflow/workflow.scheduled"

// MaxTriggerLength bounds a trigger's text.
const MaxTriggerLength = 256

// CheckTrigger validates a workflow trigger: "" (none yet: the workflow cannot be enabled), an
// event name such as "blog-post.updated", or "cron: TZ=Europe/Lisbon 0 4 * * *". It returns
// the trigger trimmed.
func CheckTrigger(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", nil
	case len(s) > MaxTriggerLength:
		return "", engine.FieldError("trigger", "is longer than %d characters", MaxTriggerLength)
	case strings.HasPrefix(s, CronPrefix):
		spec := strings.TrimSpace(strings.TrimPrefix(s, CronPrefix))
		if _, err := engine.ParseCron(spec); err != nil {
			return "", engine.FieldError("trigger", "%v", engine.ErrorMessage(err))
		}
		return CronPrefix + " " + spec, nil
	case strings.ContainsAny(s, " \t\r\n"):
		return "", engine.FieldError("trigger", "event name %q may not contain spaces (a schedule starts with %q)", s, CronPrefix)
	case s == "*" || s == ScheduledEvent:
		return "", engine.FieldError("trigger", "%q is reserved", s)
	}
	return s, nil
}

// cronSpec returns the schedule of a cron trigger, or "".
func cronSpec(trigger string) string {
	spec, ok := strings.CutPrefix(trigger, CronPrefix)
	if !ok {
		return ""
	}
	return strings.TrimSpace(spec)
}

// MaxTriggers bounds how many triggers one workflow has (Inngest allows ten per function).
const MaxTriggers = 10

// TriggerSpec is one of a workflow's triggers: an event name with an optional CEL If over
// `event`, or a cron schedule ("TZ=Europe/Lisbon 0 4 * * *", without the "cron:" prefix).
type TriggerSpec struct {
	Event string `json:"event,omitempty"`
	If    string `json:"if,omitempty"`
	Cron  string `json:"cron,omitempty"`
}

// Legacy is the trigger as the single "trigger" string writes it: the event name, or
// "cron: <schedule>".
func (t TriggerSpec) Legacy() string {
	if t.Cron != "" {
		return CronPrefix + " " + t.Cron
	}
	return t.Event
}

// LegacyTrigger is what "trigger" shows for a list of triggers: the first event trigger, or
// when there is none the first schedule ("" for none).
func LegacyTrigger(ts []TriggerSpec) string {
	for _, t := range ts {
		if t.Event != "" {
			return t.Event
		}
	}
	if len(ts) > 0 {
		return ts[0].Legacy()
	}
	return ""
}

// TriggersOf turns a checked single trigger string into its list (none for "").
func TriggersOf(trigger string) []TriggerSpec {
	switch {
	case trigger == "":
		return []TriggerSpec{}
	case strings.HasPrefix(trigger, CronPrefix):
		return []TriggerSpec{{Cron: cronSpec(trigger)}}
	}
	return []TriggerSpec{{Event: trigger}}
}

// CheckTriggers decodes and validates a "triggers" list: each item is {"event", "if"?} or
// {"cron"}; errors name the item's field (triggers[1].if). It returns the list normalized.
func CheckTriggers(raw json.RawMessage) ([]TriggerSpec, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, engine.FieldError("triggers", "must be a list of {\"event\", \"if\"} or {\"cron\"} objects")
	}
	if len(items) > MaxTriggers {
		return nil, engine.FieldError("triggers", "has %d triggers; at most %d", len(items), MaxTriggers)
	}
	out := make([]TriggerSpec, 0, len(items))
	for i, item := range items {
		p := fmt.Sprintf("triggers[%d]", i)
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(item, &fields); err != nil || fields == nil {
			return nil, engine.FieldError(p, "must be an object: {\"event\", \"if\"} or {\"cron\"}")
		}
		var t TriggerSpec
		for k, v := range fields {
			var s string
			if json.Unmarshal(v, &s) != nil {
				if k != "event" && k != "if" && k != "cron" {
					return nil, engine.FieldError(p+"."+k, "is not a trigger field (event, if, cron)")
				}
				return nil, engine.FieldError(p+"."+k, "must be text")
			}
			switch k {
			case "event":
				t.Event = strings.TrimSpace(s)
			case "if":
				t.If = strings.TrimSpace(s)
			case "cron":
				t.Cron = strings.TrimSpace(s)
			default:
				return nil, engine.FieldError(p+"."+k, "is not a trigger field (event, if, cron)")
			}
		}
		if err := checkTriggerSpec(p, &t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func checkTriggerSpec(p string, t *TriggerSpec) error {
	switch {
	case t.Event != "" && t.Cron != "":
		return engine.FieldError(p, "has both event and cron: a trigger is one or the other")
	case t.Event == "" && t.Cron == "":
		return engine.FieldError(p, "needs an event or a cron schedule")
	case t.Cron != "":
		if t.If != "" {
			return engine.FieldError(p+".if", "applies to event triggers only")
		}
		spec := strings.TrimSpace(strings.TrimPrefix(t.Cron, CronPrefix))
		if len(spec) > MaxTriggerLength {
			return engine.FieldError(p+".cron", "is longer than %d characters", MaxTriggerLength)
		}
		if _, err := engine.ParseCron(spec); err != nil {
			return engine.FieldError(p+".cron", "%v", engine.ErrorMessage(err))
		}
		t.Cron = spec
		return nil
	}
	name, err := CheckTrigger(t.Event)
	if err != nil || strings.HasPrefix(name, CronPrefix) {
		msg := "must be an event name (a schedule goes in cron)"
		if err != nil {
			msg = engine.ErrorMessage(err)
		}
		return engine.FieldError(p+".event", "%s", strings.TrimPrefix(msg, "trigger: "))
	}
	t.Event = name
	if len(t.If) > MaxTriggerLength*4 {
		return engine.FieldError(p+".if", "is longer than %d characters", MaxTriggerLength*4)
	}
	return checkKey(p+".if", t.If, false)
}
