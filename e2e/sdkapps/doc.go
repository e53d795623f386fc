// Package sdkapps holds inkflow's tests with the real Inngest SDKs: apps written with
// inngest-js (js/app.mjs, served by node) and inngestgo (go/, a module of its own so the main
// go.mod stays clean) run on loopback against an in-process inkflow, in dev mode and in
// signed mode. Nothing here is linked into inkflow.
package sdkapps
