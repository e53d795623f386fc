package ops

import (
	"context"
	"embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

// KindDeps is what the operations kinds read: the CMS (posts, users) and the engine (runs,
// steps).
type KindDeps struct {
	CMS    *cms.CMS
	Engine *engine.Engine
}

// RegisterKinds adds the operations action kinds: editorial_report (the week in numbers) and
// admin_emails (who to tell). Pair them with send_email (workflow.RegisterEmail).
func RegisterKinds(r *workflow.Registry, d KindDeps) error {
	if d.CMS == nil || d.Engine == nil {
		return fmt.Errorf("ops: KindDeps.CMS and KindDeps.Engine are required")
	}
	return r.Register(reportKind(d), adminEmailsKind(d))
}

// Report is the editorial_report action's output.
type Report struct {
	Subject string `json:"subject"`
	// Text is the report as plain text, ready for an email body.
	Text string `json:"text"`
	// Admins is the enabled admins' addresses, comma separated (send_email's "to").
	Admins             string   `json:"admins"`
	Published          []string `json:"published"`
	WaitingForApproval int64    `json:"waiting_for_approval"`
	FailedRuns         int64    `json:"failed_runs"`
	AITokens           int64    `json:"ai_tokens"`
	Since              string   `json:"since"`
}

func reportKind(d KindDeps) workflow.Kind {
	return workflow.Kind{
		Name:        "editorial_report",
		Category:    workflow.CategoryReports,
		Title:       "Editorial report",
		Description: "Sum up a period: posts published, posts waiting for approval, failed runs and AI tokens used. Output: a subject and a plain-text body for send_email, and the admins' addresses.",
		Inputs: []workflow.InputSpec{
			{Name: "period", Title: "Period", Type: workflow.TypeDuration, Default: "7d", Description: "How far back the report looks."},
		},
		Output: &workflow.Shape{Type: "object", Fields: map[string]*workflow.Shape{
			"subject":              {Type: "string"},
			"text":                 {Type: "string"},
			"admins":               {Type: "string", Description: "Enabled admins' addresses, comma separated."},
			"published":            {Type: "array", Items: &workflow.Shape{Type: "string"}},
			"waiting_for_approval": {Type: "number"},
			"failed_runs":          {Type: "number"},
			"ai_tokens":            {Type: "number"},
		}},
		Handler: func(ctx context.Context, in workflow.ActionInput) (any, error) {
			period, ok, err := in.Duration("period")
			if err != nil {
				return nil, err
			}
			if !ok {
				period = 7 * 24 * time.Hour
			}
			return buildReport(ctx, d, time.Now().Add(-period))
		},
	}
}

func adminEmailsKind(d KindDeps) workflow.Kind {
	return workflow.Kind{
		Name:        "admin_emails",
		Category:    workflow.CategoryReports,
		Title:       "Admins' email addresses",
		Description: "The enabled admins' addresses, for send_email's To field: !ref($.state.<id>.emails).",
		Output: &workflow.Shape{Type: "object", Fields: map[string]*workflow.Shape{
			"emails": {Type: "string", Description: "Comma separated."},
		}},
		Handler: func(ctx context.Context, in workflow.ActionInput) (any, error) {
			emails, err := adminEmails(ctx, d.CMS)
			if err != nil {
				return nil, err
			}
			return map[string]any{"emails": emails}, nil
		},
	}
}

// buildReport gathers the figures since since.
func buildReport(ctx context.Context, d KindDeps, since time.Time) (*Report, error) {
	r := &Report{Since: since.UTC().Format("2006-01-02 15:04 UTC"), Published: []string{}}
	published, _, err := d.CMS.Posts.List(ctx, cms.PostFilter{Status: cms.StatusPublished, Limit: 200})
	if err != nil {
		return nil, err
	}
	for _, p := range published {
		if p.PublishedAt != nil && !p.PublishedAt.Before(since) {
			r.Published = append(r.Published, p.Title)
		}
	}
	if _, r.WaitingForApproval, err = d.CMS.Posts.List(ctx, cms.PostFilter{Status: cms.StatusNeedsApproval, Limit: 1}); err != nil {
		return nil, err
	}
	failed, err := d.Engine.CountRuns(ctx, engine.RunFilter{EndedSince: since})
	if err != nil {
		return nil, err
	}
	r.FailedRuns = int64(failed[engine.StatusFailed])
	usage, err := d.Engine.UsageSince(ctx, since)
	if err != nil {
		return nil, err
	}
	for _, u := range usage {
		r.AITokens += u.TotalTokens
	}
	if r.Admins, err = adminEmails(ctx, d.CMS); err != nil {
		return nil, err
	}
	r.Subject = fmt.Sprintf("inkflow weekly report: %d published, %d waiting for approval, %d failed runs", len(r.Published), r.WaitingForApproval, r.FailedRuns)
	r.Text = r.text()
	return r, nil
}

func (r *Report) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Since %s:\n\n", r.Since)
	fmt.Fprintf(&b, "Posts published: %d\n", len(r.Published))
	for _, t := range r.Published {
		fmt.Fprintf(&b, "  - %s\n", t)
	}
	fmt.Fprintf(&b, "Posts waiting for approval: %d\n", r.WaitingForApproval)
	fmt.Fprintf(&b, "Failed runs: %d\n", r.FailedRuns)
	fmt.Fprintf(&b, "AI tokens used: %d\n", r.AITokens)
	return b.String()
}

// adminEmails lists the enabled admins' addresses, comma separated. No admin is an error a
// retry cannot fix: the mail would go nowhere.
func adminEmails(ctx context.Context, c *cms.CMS) (string, error) {
	users, err := c.Users.List(ctx)
	if err != nil {
		return "", err
	}
	var out []string
	for _, u := range users {
		if u.Role == cms.RoleAdmin && !u.Disabled {
			out = append(out, u.Email)
		}
	}
	if len(out) == 0 {
		return "", engine.NonRetriable(engine.Errorf(engine.EInvalid, "there is no enabled admin to write to"))
	}
	sort.Strings(out)
	return strings.Join(out, ", "), nil
}

//go:embed templates/*.json
var templateFiles embed.FS

// Template is a workflow template: the body POST /api/workflows/import takes.
type Template = workflow.Template

// Templates lists the operations workflow templates (the weekly report, the failure alert),
// sorted by id.
func Templates() []Template {
	out, err := workflow.ReadTemplates(templateFiles, "templates")
	if err != nil {
		panic(err) // embedded at build time: a bad file is a programming error
	}
	return out
}
