package sdk

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

// flowOptions are the Inngest options an SDK function may set besides concurrency, cancel
// and retries that inkflow applies, with the fields of each it reads. They have the same JSON
// shape as a workflow's config, so one decoder (workflow.ParseConfig) checks both.
var flowOptions = map[string][]string{
	"throttle":    {"limit", "period", "burst", "key"},
	"rateLimit":   {"limit", "period", "key"},
	"debounce":    {"period", "key", "timeout"},
	"batchEvents": {"maxSize", "timeout", "key"},
	"idempotency": nil,
	"priority":    {"run"},
	"singleton":   {"key", "mode"},
	"timeouts":    {"start", "finish"},
}

// functionFlow is the flow control inkflow applies to fc, and the options (or fields of
// them) it does not, by their Inngest names: an option it does not know, one whose value
// does not check (a period under a second, a key that is not CEL), or one with a field it
// cannot honour (named, and the option is left out whole).
func functionFlow(fc FunctionConfig) (engine.Flow, []string) {
	var f engine.Flow
	var notApplied []string
	if n := fc.Retries(); n >= 0 {
		f.Retries = engine.Retries(n)
	}
	for i, c := range fc.Concurrency {
		switch {
		case i >= engine.MaxConcurrencyKeys:
			notApplied = append(notApplied, fmt.Sprintf("concurrency[%d]", i))
		case c.Scope != "" && c.Scope != "fn":
			// An environment- or account-wide limit spans other functions: not kept.
			notApplied = append(notApplied, fmt.Sprintf("concurrency[%d].scope", i))
		case c.Limit > 0:
			f.Concurrency = append(f.Concurrency, engine.Concurrency{Limit: c.Limit, Key: c.Key})
		}
	}
	for i, c := range fc.Cancel {
		co := engine.CancelOn{Event: c.Event, If: c.If}
		if c.Timeout != "" {
			d, err := time.ParseDuration(c.Timeout)
			if err != nil || d <= 0 {
				notApplied = append(notApplied, fmt.Sprintf("cancel[%d].timeout", i))
			} else {
				co.Timeout = d
			}
		}
		f.CancelOn = append(f.CancelOn, co)
	}
	for _, name := range sortedKeys(fc.Other) {
		fields, known := flowOptions[name]
		if !known {
			notApplied = append(notApplied, name)
			continue
		}
		raw := fc.Other[name]
		if fields != nil {
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) != nil {
				notApplied = append(notApplied, name)
				continue
			}
			var unread []string
			for _, k := range sortedKeys(m) {
				switch {
				case string(m[k]) == "null":
					delete(m, k)
				case !slices.Contains(fields, k):
					unread = append(unread, name+"."+k)
				}
			}
			if len(unread) > 0 {
				// A field inkflow cannot honour (batchEvents.if, say) changes which events the
				// option applies to: the option is not applied at all, rather than half.
				notApplied = append(notApplied, unread...)
				continue
			}
			raw, _ = json.Marshal(m)
		}
		one, _ := json.Marshal(map[string]json.RawMessage{name: raw})
		cfg, err := workflow.ParseConfig(one)
		if err != nil {
			notApplied = append(notApplied, name)
			continue
		}
		got, err := cfg.Flow()
		if err != nil || got == nil {
			notApplied = append(notApplied, name)
			continue
		}
		switch name {
		case "throttle":
			f.Throttle = got.Throttle
		case "rateLimit":
			f.RateLimit = got.RateLimit
		case "debounce":
			f.Debounce = got.Debounce
		case "batchEvents":
			f.BatchEvents = got.BatchEvents
		case "idempotency":
			f.Idempotency = got.Idempotency
		case "priority":
			f.Priority = got.Priority
		case "singleton":
			f.Singleton = got.Singleton
		case "timeouts":
			f.Timeouts = got.Timeouts
		}
	}
	for i, t := range fc.Triggers {
		if strings.Contains(t.Event, "*") {
			notApplied = append(notApplied, fmt.Sprintf("triggers[%d] (wildcard event)", i))
		}
	}
	sort.Strings(notApplied)
	return f, notApplied
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
