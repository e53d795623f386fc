package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"
)

const runsUse = `usage: inkflow runs list [filters] [--limit N]
       inkflow runs show ID
       inkflow runs cancel ID | cancel filters [--dry-run] [--limit N]
       inkflow runs replay ID | replay filters [--dry-run] [--limit N]
       inkflow runs retry ID | retry filters [--dry-run] [--limit N]
filters: --function F --workflow N --status S --event NAME --since T --until T (RFC 3339), or --all
(--server URL --token T)`

// runFilters are the filters of GET /api/runs, shared by list and the bulk commands.
type runFilters struct {
	status, function, event, since, until *string
	workflow                              *int64
	all                                   *bool
	limit                                 *int
}

func addRunFilters(fs *flag.FlagSet, limit int) runFilters {
	return runFilters{
		status:   fs.String("status", "", "only runs in this status"),
		function: fs.String("function", "", "only runs of this function id"),
		event:    fs.String("event", "", "only runs started by this event name"),
		since:    fs.String("since", "", "only runs created at or after this time (RFC 3339)"),
		until:    fs.String("until", "", "only runs created before this time (RFC 3339)"),
		workflow: fs.Int64("workflow", 0, "only runs of this workflow id"),
		all:      fs.Bool("all", false, "act on every run (a bulk command needs a filter or --all)"),
		limit:    fs.Int("limit", limit, "the most runs to list or act on (1-1000)"),
	}
}

// any reports whether a filter narrows the runs.
func (f runFilters) any() bool {
	return *f.status != "" || *f.function != "" || *f.event != "" || *f.since != "" || *f.until != "" || *f.workflow != 0
}

func (f runFilters) query() url.Values {
	q := url.Values{"limit": {strconv.Itoa(*f.limit)}}
	for k, v := range map[string]string{"status": *f.status, "function": *f.function, "event": *f.event, "since": *f.since, "until": *f.until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *f.workflow != 0 {
		q.Set("workflow", strconv.FormatInt(*f.workflow, 10))
	}
	return q
}

// body is the JSON of POST /api/runs/cancel and /api/runs/replay.
func (f runFilters) body(dryRun bool) map[string]any {
	b := map[string]any{"dry_run": dryRun, "limit": *f.limit}
	for k, v := range map[string]string{"status": *f.status, "function": *f.function, "event": *f.event, "since": *f.since, "until": *f.until} {
		if v != "" {
			b[k] = v
		}
	}
	if *f.workflow != 0 {
		b["workflow"] = *f.workflow
	}
	return b
}

func cmdRuns(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return usageOrHelp(args, out, runsUse)
	}
	sub, args := args[0], args[1:]
	fs := flags("runs "+sub, out)
	c := clientFlags(fs)
	switch sub {
	case "list":
		f := addRunFilters(fs, 50)
		if err := parse(fs, args); err != nil {
			return err
		}
		if err := c.check(); err != nil {
			return err
		}
		return runsList(ctx, c, f.query(), out)
	case "show":
		id, err := runID(fs, args, sub)
		if err != nil {
			return err
		}
		if err := c.check(); err != nil {
			return err
		}
		raw, err := c.do(ctx, "GET", "/api/runs/"+url.PathEscape(id), nil)
		if err != nil {
			return err
		}
		return writeIndented(out, raw)
	case "cancel", "replay", "retry":
		id, rest := firstArg(args)
		f := addRunFilters(fs, 1000)
		dryRun := fs.Bool("dry-run", false, "list what would be done, do nothing")
		if err := parse(fs, rest); err != nil {
			return err
		}
		if id == "" && fs.NArg() > 0 {
			id = fs.Arg(0)
		}
		if id != "" {
			if f.any() || *f.all {
				return usagef("runs %s takes a run id or filters, not both", sub)
			}
			if err := c.check(); err != nil {
				return err
			}
			return runOne(ctx, c, sub, id, *dryRun, out)
		}
		if !f.any() && !*f.all {
			return usagef("a run id is required: inkflow runs %s ID (or filters, or --all, for many runs)", sub)
		}
		if err := c.check(); err != nil {
			return err
		}
		if sub == "retry" {
			return retryMatching(ctx, c, f, *dryRun, out)
		}
		return bulkRuns(ctx, c, sub, f, *dryRun, out)
	}
	return usagef("%s", runsUse)
}

func runID(fs *flag.FlagSet, args []string, sub string) (string, error) {
	id, rest := firstArg(args)
	if err := parse(fs, rest); err != nil {
		return "", err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	if id == "" {
		return "", usagef("a run id is required: inkflow runs %s ID", sub)
	}
	return id, nil
}

// runOne cancels, replays (as a new run) or retries one run.
func runOne(ctx context.Context, c *apiClient, sub, id string, dryRun bool, out io.Writer) error {
	if dryRun {
		raw, err := c.do(ctx, "GET", "/api/runs/"+url.PathEscape(id), nil)
		if err != nil {
			return err
		}
		var r struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(raw, &r)
		fmt.Fprintf(out, "would %s %s (%s)\n", sub, id, r.Status)
		return nil
	}
	action := sub
	if sub == "replay" {
		action = "rerun"
	}
	raw, err := c.do(ctx, "POST", "/api/runs/"+url.PathEscape(id)+"/"+action, nil)
	if err != nil {
		return err
	}
	if sub == "replay" {
		var r struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(raw, &r)
		fmt.Fprintf(out, "replayed %s as %s\n", id, r.ID)
		return nil
	}
	fmt.Fprintf(out, "%s %s\n", pastTense(sub), id)
	return nil
}

// bulkRuns is POST /api/runs/cancel or /api/runs/replay: a count line, then one run per line
// (with the new run's id for replay).
func bulkRuns(ctx context.Context, c *apiClient, sub string, f runFilters, dryRun bool, out io.Writer) error {
	raw, err := c.do(ctx, "POST", "/api/runs/"+sub, f.body(dryRun))
	if err != nil {
		return err
	}
	var res struct {
		Matched int      `json:"matched"`
		IDs     []string `json:"ids"`
		Runs    []string `json:"runs"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("decode the answer: %w", err)
	}
	if dryRun {
		fmt.Fprintf(out, "would %s %d runs\n", sub, res.Matched)
	} else {
		fmt.Fprintf(out, "%s %d runs\n", pastTense(sub), res.Matched)
	}
	for i, id := range res.IDs {
		if sub == "replay" && i < len(res.Runs) {
			fmt.Fprintf(out, "%s\t%s\n", id, res.Runs[i])
		} else {
			fmt.Fprintln(out, id)
		}
	}
	return nil
}

// retryMatching retries every failed run the filters match: the server retries one run per
// request, so the list is read first (refusing, like the bulk endpoints, a filter matching
// more than --limit runs) and each is retried in turn; a run that cannot be retried is
// reported and the rest go on.
func retryMatching(ctx context.Context, c *apiClient, f runFilters, dryRun bool, out io.Writer) error {
	if *f.status != "" && *f.status != "failed" {
		return usagef("runs retry resumes failed runs: --status %s cannot match any", *f.status)
	}
	q := f.query()
	q.Set("status", "failed")
	raw, err := c.do(ctx, "GET", "/api/runs?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	var page struct {
		Runs []struct {
			ID string `json:"id"`
		} `json:"runs"`
		Next string `json:"next"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return fmt.Errorf("decode runs: %w", err)
	}
	if page.Next != "" {
		return fmt.Errorf("the filters match more than %d failed runs: narrow them or raise --limit (at most 1000); nothing was retried", *f.limit)
	}
	if dryRun {
		fmt.Fprintf(out, "would retry %d runs\n", len(page.Runs))
		for _, r := range page.Runs {
			fmt.Fprintln(out, r.ID)
		}
		return nil
	}
	var failed []error
	var done []string
	for _, r := range page.Runs {
		if _, err := c.do(ctx, "POST", "/api/runs/"+url.PathEscape(r.ID)+"/retry", nil); err != nil {
			failed = append(failed, fmt.Errorf("retry %s: %w", r.ID, err))
			continue
		}
		done = append(done, r.ID)
	}
	fmt.Fprintf(out, "retried %d runs\n", len(done))
	for _, id := range done {
		fmt.Fprintln(out, id)
	}
	return errors.Join(failed...)
}

func pastTense(sub string) string {
	switch sub {
	case "cancel":
		return "cancelled"
	case "replay":
		return "replayed"
	}
	return "retried"
}

// runsList prints one run per line: id, status, function, created.
func runsList(ctx context.Context, c *apiClient, q url.Values, out io.Writer) error {
	raw, err := c.do(ctx, "GET", "/api/runs?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	var page struct {
		Runs []struct {
			ID        string    `json:"id"`
			Status    string    `json:"status"`
			Function  string    `json:"function"`
			EventName string    `json:"event_name"`
			CreatedAt time.Time `json:"created_at"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return fmt.Errorf("decode runs: %w", err)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSTATUS\tFUNCTION\tEVENT\tCREATED")
	for _, r := range page.Runs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Function, r.EventName, r.CreatedAt.UTC().Format(time.RFC3339))
	}
	return w.Flush()
}
