package workflow

import (
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
