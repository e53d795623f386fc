// Package workflow is inkflow's workflow kit: workflows are data (actions joined by edges, in
// the JSON shape of @inngest/workflow-kit) that admins build and change without a deploy, and
// this package validates them, stores them with immutable versions, and runs them through the
// engine's durable steps.
//
// # How the parts fit
//
//   - Workflow, Action, Edge, Conditional (workflow.go) are the JSON types; Decode reads
//     untrusted JSON with limits, keeping unknown fields so an export matches the import.
//   - Kind and Registry (kind.go) hold the action kinds a process can run; RegisterBuiltins
//     adds the generic ones (sleep, wait_for_event, send_event, webhook, set_state, log and
//     workflow-kit's builtin:if). Blog kinds are registered by package actions. A kind's
//     Category groups it in the editor's palette.
//   - Template (template.go) is a ready-made workflow; ReadTemplates loads a package's
//     embedded ones (actions: the editorial review, social posts; ops: report, alert) for the
//     "New workflow" gallery.
//   - Validate (validate.go) checks a workflow against a registry before anything is stored.
//   - Walker (walk.go) runs a validated workflow on a run's *engine.Step.
//   - Store (store.go) keeps workflows and their versions; Runner (runner.go) is the one
//     engine function that runs every workflow, plus the cron scheduler for timed ones.
//
// # Semantics (workflow-kit's, and where we do better)
//
// Refs. "!ref($.path)" reads a JSON path over {event, state}: $.event is the triggering event
// ({id, name, data, user, ts}), $.state.<actionId> is that action's output (state is exactly
// what each handler returned, as workflow-kit stores it). A string that is exactly one ref
// takes the referenced value with its type; refs inside longer text are replaced by their
// text. Objects and arrays in inputs are walked. Paths use .name, [0] and ['key'] segments;
// names may contain letters, digits, _, - and $ (workflow-kit's regex accepts only \w and
// dots in embedded refs; we accept a superset). Where workflow-kit leaves a broken ref as
// literal text and inserts "undefined" for a missing value, we refuse a malformed ref at
// validation, insert nothing for a missing value in text (a pure ref gives null), and render
// objects inside text as JSON instead of "[object Object]".
//
// Conditions. On an edge, conditional.ref is evaluated with $.output bound to the output of
// the edge's from action (null for $source). "if" holds when the value is truthy, "else"
// when falsy (JavaScript truthiness: false, 0, "", null are falsy), "match" when the value is
// JSON-equal to conditional.value (so 4158 and "4158" differ, as JSON.stringify comparison
// does in workflow-kit). Beyond workflow-kit, ref may instead be a CEL expression prefixed
// "cel:" (for example "cel: output.score > 0.8 && event.data.lang == 'en'"), over the
// variables output, event and state; a CEL runtime error (a missing field) gives null. The
// builtin:if kind accepts a JSON-logic condition (as workflow-kit's) or a "cel:" string.
//
// Walk. workflow-kit visits actions breadth-first, one at a time, and runs a join once, but
// still runs actions behind a failed condition if another path reaches them. Here an action
// starts as soon as every incoming edge is resolved (its source finished or was skipped, and
// its condition evaluated); it runs if at least one incoming edge holds, and is skipped
// otherwise, and so is everything reachable only through skipped actions. Actions that become
// ready together run as parallel durable steps (engine Step.Parallel), and each branch goes on
// with what its completion makes ready, so a join runs once, after its last source, and an
// independent chain never waits behind a sleeping or waiting branch. Decisions depend only on
// the event and memoized outputs, never on timing, so replays agree.
//
// Steps. Each action is one durable step whose id is the action id (name: the action's name),
// run with the action's optional "retries" and "timeout" (inkflow extensions on the action
// object; workflow-kit ignores them). Kinds with Kind.Steps drive the step tool themselves
// (sleep, wait_for_event, send_event) with ids derived from the action id.
//
// Validation (on save, import and dry run) refuses: unknown kind, empty or duplicate id, edge
// to or from an unknown action, repeated edge, cycle, no entry edge from $source, an action
// unreachable from $source (stricter than workflow-kit's "has an incoming edge"), a missing
// required input, a literal of the wrong type, a malformed ref, a ref to an action that is not
// upstream, $.output outside an edge, a bad condition type, a match without a value, CEL that
// does not compile, and, as workflow-kit does ("no starting actions"), an empty workflow.
// Store.Create keeps a blank draft for the editor to fill, but it cannot be enabled. An input
// the kind does not declare is kept, as workflow-kit keeps it (a workflow saved with an older
// version of a kind still imports); UndeclaredInputs lists them for the editor's warning.
// Errors are *engine.Error (EInvalid) whose message names the action and whose Fields are
// keyed "actions.<id>.inputs.<name>", "edges[<i>].to"...
//
// Inputs. A kind declares each input's type: string, text, number, boolean, enum, duration
// (Go/Inngest style: "90s", "1h30m", "7d", "1w"), event (an event name) and json (any JSON,
// for event data, webhook bodies and set_state values; workflow-kit's TypeBox schemas can be
// richer, the editor needs no more). Validation checks literals; a single ref is accepted
// anywhere and checked once resolved, where plain conversions apply (a numeric string for a
// number, a number for text); a resolved value that still does not fit fails the action
// without retry, naming the input. Unset inputs take their default.
//
// Triggers are a workflow column, not part of the JSON: an event name, or
// "cron: [TZ=Area/City ]<five-field expression>". Every minute the scheduler function
// (CronFunctionID) sends ScheduledEvent {workflow_id, tick} with event id
// "wf-<id>-<tick unix seconds>" for each enabled cron workflow whose schedule fired in that
// minute, and the loader starts that workflow alone. The loader (Runner.Fanout) runs inside
// the transaction that stores an event and returns one engine.RunMeta per enabled workflow
// whose trigger is the event's name.
//
// Versions. Every save of a workflow's graph is a new immutable version; a run pins the
// version it started with (engine.RunMeta), so editing, disabling or deleting a workflow never
// changes a run in flight (deleting hides the workflow but keeps its versions). A save may
// carry base_version, the version the client edited; a stale one is refused (EConflict).
//
// Webhooks refuse loopback, private, link-local, CGNAT, multicast and unspecified addresses
// (BuiltinConfig.AllowPrivateWebhooks lifts this). The check runs on the resolved address of
// every connection, so a host name resolving to a private address and a redirect to one are
// refused too; environment proxies are not used.
//
// Concurrency keys are stored with each workflow (a CEL expression over event) and checked on
// save, but not yet enforced: the engine has no per-run concurrency key in RunMeta.
package workflow
