// Package sdk makes inkflow the Inngest server for apps written with the Inngest SDKs
// (inngest-js 3.x and 4.x, so @inngest/workflow-kit apps, and inngestgo), unchanged.
//
// # How the parts fit
//
// protocol.go holds the wire types as plain Go values: the register request an SDK posts to
// /fn/register (with each function's configuration, decoded leniently because every SDK adds
// its own fields), the call request inkflow posts to an app, the opcodes an app answers with,
// and the headers both sides use. sign.go holds the signing: canonical JSON (RFC 8785),
// X-Inngest-Signature and the hashed signing key an SDK sends as a bearer token. In signed mode
// inkflow also checks the signature of the app's answers (VerifyAnswer: the body as sent, not
// canonicalized): an in-band sync answer must be signed; a call answer of inngest-js must be
// (it signs every one), of inngestgo may be unsigned (v0.16 signs none); a bad one is refused
// and the call made again.
// duration.go parses the durations and dates the SDKs write ("1d", "2h30m", RFC 3339).
//
// The registry (registry.go) stores apps and their functions in the database (sdk_apps, one
// row per serve URL with its functions as JSON; sdk_signing_keys), syncs an app by calling its
// serve URL, and turns each stored function into an engine.Function whose handler is the
// remote driver (driver.go): every process loads them at start and reloads when they change
// (Watch), so a sync on one process is seen by all. allow.go is the INKFLOW_APP_URLS
// allow-list every URL inkflow calls is checked against; api.go answers the two /v0 endpoints
// an inngest-js app fetches a large run's memo from (use_api).
//
// The driver speaks the protocol one call at a time: it sends the run's memoized steps, records
// what the app reports (a step it ran, a step error, a sleep, a wait, an invoke; planned
// parallel steps are each run by a call of their own) as inkflow steps through the engine's
// Step tool, and loops until the app answers 200 with the function's result. Nothing of a run
// lives in the app: a crash on either side resumes from the stored steps. Runs are presented
// with Inngest's internal event names (inngest/scheduled.timer, inngest/function.invoked,
// inngest/function.failed), which the SDKs check.
//
// The protocol facts this package relies on were measured against inngest-js 3.54.2, 4.24.0
// and inngestgo 0.16.0; the tests hold the package to them (protocol_test.go for vectors,
// driver_test.go and registry_test.go against a scripted fake SDK, e2e/sdkapps with the real
// SDKs).
package sdk
