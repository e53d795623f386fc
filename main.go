// Command inkflow is the whole product in one binary: the blog CMS, the workflow engine and
// its workers. `inkflow` with no arguments serves HTTP and runs workers.
//
// Exit codes: 0 success, 2 bad usage, 1 failure (the reason on stderr).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/inkflow/inkflow/engine"
)

// command is one subcommand: its one-line summary and its body.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, out io.Writer) error
}

var commands = map[string]command{
	"serve":     {"serve HTTP and run workers (the default)", cmdServe},
	"worker":    {"run workers only (no HTTP)", cmdWorker},
	"migrate":   {"apply database migrations and exit", cmdMigrate},
	"send":      {"send an event: inkflow send NAME --data JSON", cmdSend},
	"bench":     {"run the engine benchmarks: inkflow bench [--quick] [--json]; inkflow bench worker|serve runs them with the benchmark's functions", cmdBench},
	"users":     {"create a user: inkflow users create --email E --role R [--password P]", cmdUsers},
	"tokens":    {"create an API token: inkflow tokens create --email E [--name N]", cmdTokens},
	"keys":      {"create an event key: inkflow keys create --name N", cmdKeys},
	"runs":      {"list, show, cancel, replay or retry runs on a server, one or all a filter matches: inkflow runs list|show|cancel|replay|retry --server URL --token T", cmdRuns},
	"workflows": {"export or import workflows on a server: inkflow workflows export ID|import FILE --server URL --token T", cmdWorkflows},
	"ready":     {"exit 0 when the local server answers /readyz (container health check)", cmdReady},
	"apps":      {"Inngest SDK apps: inkflow apps sync URL | remove URL | list | signing-key", cmdApps},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a usage error (exit code 2); its message is printed as is.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usagef(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
		name = "help"
	} else if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "--help" || name == "-h" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "inkflow: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, args, stdout)
	var ue errUsage
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "inkflow %s: %s\n", name, ue.msg)
		return 2
	case engine.ErrorCode(err) == engine.EInvalid:
		fmt.Fprintf(stderr, "inkflow %s: %s\n", name, engine.ErrorMessage(err))
		return 2
	default:
		fmt.Fprintf(stderr, "inkflow %s: %v\n", name, err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: inkflow [command] [flags]   (inkflow COMMAND --help for a command's flags)")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}

// flags returns a FlagSet for a command that reports errors instead of exiting. Only --help
// prints (the flags, on out, exit 0); a bad flag becomes a usage error that run writes to
// stderr (exit 2), so stdout only ever carries a command's result.
func flags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("inkflow "+name, flag.ContinueOnError)
	var failed bytes.Buffer // the flag package writes a parse error here before calling Usage
	fs.SetOutput(&failed)
	fs.Usage = func() {
		if failed.Len() > 0 {
			return
		}
		fmt.Fprintf(out, "usage of %s:\n", fs.Name())
		fs.SetOutput(out)
		fs.PrintDefaults()
		fs.SetOutput(&failed)
	}
	return fs
}

// parse parses args, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage{err.Error()}
	}
	return nil
}

// usageOrHelp answers a command called without what it needs: its usage line on out with
// exit 0 when help was asked for, a usage error (exit 2) otherwise.
func usageOrHelp(args []string, out io.Writer, use string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(out, use)
		return flag.ErrHelp
	}
	return usagef("%s", use)
}
