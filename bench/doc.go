// Package bench holds the engine's probe functions and the benchmark scenarios that
// `inkflow bench` and the reliability tests drive.
//
// The probe functions are registered in every inkflow process (they only react to events
// named inkflow/bench.*), so a benchmark or a crash test exercises the real binary: the same
// wiring, the same workers, the same database code as production.
package bench
