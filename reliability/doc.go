// Package reliability holds inkflow's long-running fault and load tests. It has no code of
// its own: its tests build the real inkflow binary, start `inkflow worker` and `inkflow serve`
// processes on real PostgreSQL and SQLite databases, then kill them with SIGKILL, restart
// the database under them, or push load through the HTTP API, and finally check in the
// database that every run completed, no committed step ran again and no event was lost.
//
// docs/RELIABILITY.md lists each fault and attack with the test that proves it and the
// latest figures. Tests that disturb others (restarting the shared PostgreSQL cluster) run
// only in their own step at the end of .ci/run, behind INKFLOW_PG_RESTART=1.
package reliability
