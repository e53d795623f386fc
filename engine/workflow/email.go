package workflow

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/inkflow/inkflow/engine"
)

// EmailConfig configures the send_email kind. It is passed in by main (SMTP_URL), never read
// from the environment here.
type EmailConfig struct {
	// URL is the SMTP server: smtp://[user:password@]host[:port] (STARTTLS when the server
	// offers it; port 587 by default) or smtps://... (TLS from the start; port 465). A
	// ?from=address parameter sets the sender (default inkflow@<host>). Empty: send_email
	// actions fail with a message saying SMTP_URL is not set.
	URL string
	// Timeout bounds one delivery attempt (default 30s).
	Timeout time.Duration
}

// RegisterEmail adds the send_email kind to r.
func RegisterEmail(r *Registry, cfg EmailConfig) error {
	return r.Register(EmailKind(cfg))
}

// EmailKind returns the send_email kind: a plain-text message to one or more addresses.
//
// Delivery is at least once, like every step: a worker that dies after the server accepted
// the message but before the step committed sends it again. Every attempt carries the same
// Message-ID (derived from the run and step), so mail systems that deduplicate by Message-ID
// show it once.
func EmailKind(cfg EmailConfig) Kind {
	return Kind{
		Name:        "send_email",
		Category:    CategoryConnect,
		Title:       "Send email",
		Description: "Send a plain-text email through the SMTP server set by SMTP_URL (mailpit in docker compose). Output: the recipients and the Message-ID.",
		Inputs: []InputSpec{
			{Name: "to", Title: "To", Type: TypeString, Required: true, Description: "Addresses separated by commas; usually a ref such as !ref($.state.report.admins)."},
			{Name: "subject", Title: "Subject", Type: TypeString, Required: true},
			{Name: "body", Title: "Body", Type: TypeText, Required: true, Description: "Plain text; refs inside are replaced by their text."},
		},
		Output: &Shape{Type: "object", Fields: map[string]*Shape{
			"to":         {Type: "array", Items: &Shape{Type: "string"}},
			"message_id": {Type: "string"},
		}},
		Validate: func(a Action) map[string]string {
			if s, ok := a.Inputs["to"].(string); ok && !strings.Contains(s, refPrefix) {
				if _, err := parseRecipients(s); err != nil {
					return map[string]string{"to": err.Error()}
				}
			}
			return nil
		},
		Handler: func(ctx context.Context, in ActionInput) (any, error) {
			return sendEmail(ctx, cfg, in.String("to"), in.String("subject"), in.String("body"), engine.IdempotencyKey(ctx))
		},
	}
}

// SendMail delivers one plain-text message outside any workflow (the CMS's account mails, a
// password reset link). It is not retried: the caller tells the user when it fails.
func SendMail(ctx context.Context, cfg EmailConfig, to, subject, body string) error {
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	_, err := sendEmail(ctx, cfg, to, subject, body, hex.EncodeToString(key))
	return err
}

// emailOutput is what a send_email action outputs.
type emailOutput struct {
	To        []string `json:"to"`
	MessageID string   `json:"message_id"`
}

// sendEmail delivers one message. Bad input and a missing configuration fail for good; a
// server that cannot be reached or refuses for now (4xx) is retried.
func sendEmail(ctx context.Context, cfg EmailConfig, to, subject, body, key string) (*emailOutput, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, engine.NonRetriable(engine.Errorf(engine.EInvalid, "send_email: SMTP_URL is not set, so inkflow cannot send mail"))
	}
	srv, err := parseSMTPURL(cfg.URL)
	if err != nil {
		return nil, engine.NonRetriable(err)
	}
	rcpts, err := parseRecipients(to)
	if err != nil {
		return nil, engine.NonRetriable(engine.FieldError("inputs.to", "%v", err))
	}
	if strings.ContainsAny(subject, "\r\n") {
		return nil, engine.NonRetriable(engine.FieldError("inputs.subject", "must be one line"))
	}
	id := messageID(key, srv.from)
	msg := buildMessage(srv.from, rcpts, subject, body, id)
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if err := srv.deliver(ctx, rcpts, msg); err != nil {
		return nil, err
	}
	return &emailOutput{To: rcpts, MessageID: id}, nil
}

// smtpServer is a parsed SMTP_URL.
type smtpServer struct {
	addr, host  string
	implicitTLS bool
	auth        smtp.Auth
	from        string
}

func parseSMTPURL(s string) (*smtpServer, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, engine.Errorf(engine.EInvalid, "SMTP_URL is not a URL like smtp://user:password@host:587")
	}
	srv := &smtpServer{host: u.Hostname()}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "587"
		}
	case "smtps":
		srv.implicitTLS = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, engine.Errorf(engine.EInvalid, "SMTP_URL must start with smtp:// or smtps://")
	}
	srv.addr = net.JoinHostPort(srv.host, port)
	if u.User != nil {
		pw, _ := u.User.Password()
		// net/smtp's PlainAuth refuses to send the password over an unencrypted connection
		// except to localhost, which is what we want.
		srv.auth = smtp.PlainAuth("", u.User.Username(), pw, srv.host)
	}
	srv.from = u.Query().Get("from")
	if srv.from == "" {
		srv.from = "inkflow@" + srv.host
	}
	if _, err := mail.ParseAddress(srv.from); err != nil {
		return nil, engine.Errorf(engine.EInvalid, "SMTP_URL: from=%q is not an email address", srv.from)
	}
	return srv, nil
}

// deliver speaks SMTP: STARTTLS when offered (or TLS from the start), AUTH when configured.
func (s *smtpServer) deliver(ctx context.Context, rcpts []string, msg []byte) error {
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("send_email: connect to %s: %w", s.addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if s.implicitTLS {
		conn = tls.Client(conn, &tls.Config{ServerName: s.host})
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("send_email: greeting from %s: %w", s.addr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicitTLS {
		if err := c.StartTLS(&tls.Config{ServerName: s.host}); err != nil {
			return fmt.Errorf("send_email: STARTTLS with %s: %w", s.addr, err)
		}
	}
	if s.auth != nil {
		if err := c.Auth(s.auth); err != nil {
			return smtpError("authenticate", err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return smtpError("MAIL FROM", err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return smtpError("RCPT TO "+r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("send_email: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("end of message", err)
	}
	return c.Quit()
}

// smtpError makes a permanent refusal (5xx) fail the action at once; anything else is
// retried.
func smtpError(what string, err error) error {
	msg := fmt.Sprintf("send_email: %s: %v", what, err)
	if strings.HasPrefix(strings.TrimSpace(err.Error()), "5") {
		return engine.NonRetriable(engine.Errorf(engine.EInvalid, "%s", msg))
	}
	return fmt.Errorf("%s", msg)
}

// parseRecipients splits a comma-separated list into bare addresses.
func parseRecipients(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("no recipient")
	}
	list, err := mail.ParseAddressList(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a list of email addresses: %v", s, err)
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Address
	}
	return out, nil
}

// messageID is stable for one step of one run, so every attempt sends the same Message-ID.
func messageID(key, from string) string {
	sum := sha256.Sum256([]byte(key))
	domain := from[strings.LastIndex(from, "@")+1:]
	return "<" + hex.EncodeToString(sum[:12]) + "@" + domain + ">"
}

// buildMessage writes an RFC 5322 message with a UTF-8 plain-text body.
func buildMessage(from string, to []string, subject, body, id string) []byte {
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", from)
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	h("Message-ID", id)
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	body = strings.ReplaceAll(body, "\r\n", "\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	if !strings.HasSuffix(body, "\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}
