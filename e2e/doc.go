// Package e2e holds the system tests: they build the real inkflow binary (package main at the
// repository root) once and run it as users and operators do: a server and its client
// commands, several instances sharing a database, workers killed mid-run, a graceful
// shutdown, a backup restored into a new database, and the compose file checked offline.
// Every storage test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
package e2e
