package workflow

import (
	"context"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/ops/mailtest"
)

func TestSendEmail(t *testing.T) {
	srv := mailtest.Start(t)
	cases := []struct {
		name, url, to, subject, body string
		wantErr                      string // "" for delivered
		permanent                    bool
		wantAuth                     string
	}{
		{name: "delivered", url: srv.URL(""), to: "Ada <ada@example.com>, bob@example.com", subject: "Run failed: héllo", body: "line 1\n.line 2"},
		{name: "with credentials", url: srv.URL("mailer:s3cret"), to: "ada@example.com", subject: "s", body: "b", wantAuth: "mailer:s3cret"},
		{name: "no SMTP_URL", url: "", to: "ada@example.com", subject: "s", body: "b", wantErr: "SMTP_URL is not set", permanent: true},
		{name: "bad scheme", url: "http://" + srv.Addr, to: "ada@example.com", subject: "s", body: "b", wantErr: "smtp://", permanent: true},
		{name: "bad recipient", url: srv.URL(""), to: "not an address", subject: "s", body: "b", wantErr: "not a list of email addresses", permanent: true},
		{name: "header injection", url: srv.URL(""), to: "ada@example.com", subject: "hi\r\nBcc: x@evil.test", body: "b", wantErr: "one line", permanent: true},
		{name: "refused for good", url: srv.URL(""), to: "reject@example.com", subject: "s", body: "b", wantErr: "550", permanent: true},
		{name: "refused for now", url: srv.URL(""), to: "later@example.com", subject: "s", body: "b", wantErr: "451", permanent: false},
		{name: "server down", url: "smtp://127.0.0.1:1", to: "ada@example.com", subject: "s", body: "b", wantErr: "connect", permanent: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := sendEmail(context.Background(), EmailConfig{URL: tc.url}, tc.to, tc.subject, tc.body, "run-1:step-1")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
				if engine.IsNonRetriable(err) != tc.permanent {
					t.Errorf("non-retriable = %v, want %v", engine.IsNonRetriable(err), tc.permanent)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := <-srv.Messages
			if m.From != "inkflow@example.com" || strings.Join(m.To, ",") != strings.Join(out.To, ",") {
				t.Errorf("envelope %s -> %v, output %v", m.From, m.To, out.To)
			}
			if m.Auth != tc.wantAuth {
				t.Errorf("auth %q, want %q", m.Auth, tc.wantAuth)
			}
			if !strings.Contains(m.Data, "Message-ID: "+out.MessageID+"\r\n") {
				t.Errorf("message lacks its Message-ID %s:\n%s", out.MessageID, m.Data)
			}
			if tc.name == "delivered" {
				for _, want := range []string{"Subject: =?utf-8?q?Run_failed:_h=C3=A9llo?=\r\n", "\r\n\r\nline 1\r\n.line 2\r\n", "To: ada@example.com, bob@example.com\r\n"} {
					if !strings.Contains(m.Data, want) {
						t.Errorf("message lacks %q:\n%s", want, m.Data)
					}
				}
			}
		})
	}
	// Every attempt of one step sends the same Message-ID, so a resend after a crash can be
	// recognised; another step gets another.
	a, errA := sendEmail(context.Background(), EmailConfig{URL: srv.URL("")}, "a@example.com", "s", "b", "run-1:step-1")
	b, errB := sendEmail(context.Background(), EmailConfig{URL: srv.URL("")}, "a@example.com", "s", "b", "run-1:step-2")
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	<-srv.Messages
	<-srv.Messages
	if a == nil || b == nil || a.MessageID != messageID("run-1:step-1", "inkflow@example.com") || a.MessageID == b.MessageID {
		t.Errorf("message ids %v %v", a, b)
	}
}

func TestSendEmailValidation(t *testing.T) {
	reg := NewRegistry()
	if err := RegisterEmail(reg, EmailConfig{}); err != nil {
		t.Fatal(err)
	}
	k := reg.kinds["send_email"]
	if p := k.Validate(Action{Inputs: map[string]any{"to": "nope"}}); p["to"] == "" {
		t.Errorf("a literal bad address passes validation")
	}
	if p := k.Validate(Action{Inputs: map[string]any{"to": "!ref($.state.report.admins)"}}); len(p) != 0 {
		t.Errorf("a ref is refused before it is resolved: %v", p)
	}
}
