// Package browser runs browser tests: a Go test starts a node script that drives Debian's
// headless Chromium (/usr/bin/chromium) through playwright-core, and the test fails with the
// script's output when the script exits non-zero.
//
// The Go side finds the repository root (where package.json and node_modules live), checks
// that node and Chromium are present (skipping with testdb.Need when not, so
// INKFLOW_REQUIRE_ALL=1 turns a missing browser into a failure), installs the npm packages
// with `npm ci` when they are missing (NeedNode: once, under a lock, also for the editor and
// SDK tests that need node without a browser), gives the script a fresh
// Chromium profile and an output folder, and kills the whole process group when the test
// ends or times out.
//
// The script side is browser.mjs beside this file: scripts import it (see Env for the
// variables it reads) to launch Chromium with the flags CI needs, take screenshots into the
// calling package's testdata/out/, and surface page errors in the output.
package browser
