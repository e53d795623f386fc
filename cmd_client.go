package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// The client commands talk to a running server over its JSON API with a user's API token,
// so they work from any machine: inkflow runs list|show|cancel, inkflow workflows
// export|import. --server and --token default to INKFLOW_SERVER and INKFLOW_TOKEN.

// apiClient calls one server's JSON API.
type apiClient struct {
	server, token string
	http          *http.Client
}

// clientFlags registers --server and --token on fs.
func clientFlags(fs *flag.FlagSet) *apiClient {
	c := &apiClient{http: &http.Client{Timeout: 30 * time.Second}}
	fs.StringVar(&c.server, "server", env("INKFLOW_SERVER", "http://localhost:8080"), "the server's base URL (env INKFLOW_SERVER)")
	fs.StringVar(&c.token, "token", os.Getenv("INKFLOW_TOKEN"), "an API token from inkflow tokens create (env INKFLOW_TOKEN)")
	return c
}

func (c *apiClient) check() error {
	if c.token == "" {
		return usagef("an API token is required: --token T or INKFLOW_TOKEN (create one with inkflow tokens create --email E)")
	}
	u, err := url.Parse(c.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--server %q is not an http(s) URL", c.server)
	}
	c.server = strings.TrimRight(c.server, "/")
	return nil
}

// apiError is an answer with an error status: {"error", "fields"} from the server.
type apiError struct {
	Status int
	Msg    string
	Fields map[string]string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("server answered %d: %s", e.Status, e.Msg)
	for f, m := range e.Fields {
		msg += fmt.Sprintf("\n  %s: %s", f, m)
	}
	return msg
}

// do sends body (JSON, or raw bytes when it is []byte) and returns the answer's body.
func (c *apiClient) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach %s: %w", c.server, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer of %s %s: %w", method, path, err)
	}
	if res.StatusCode >= 400 {
		e := &apiError{Status: res.StatusCode}
		var body struct {
			Error  string            `json:"error"`
			Fields map[string]string `json:"fields"`
		}
		if json.Unmarshal(raw, &body) == nil && body.Error != "" {
			e.Msg, e.Fields = body.Error, body.Fields
		} else {
			e.Msg = http.StatusText(res.StatusCode)
		}
		return nil, e
	}
	return raw, nil
}

func cmdWorkflows(ctx context.Context, args []string, out io.Writer) error {
	const use = "usage: inkflow workflows export ID | import FILE|- [--name N] [--trigger T] [--enabled]   (--server URL --token T)"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return usageOrHelp(args, out, use)
	}
	sub, args := args[0], args[1:]
	fs := flags("workflows "+sub, out)
	c := clientFlags(fs)
	switch sub {
	case "export":
		id, rest := firstArg(args)
		if err := parse(fs, rest); err != nil {
			return err
		}
		if id == "" && fs.NArg() > 0 {
			id = fs.Arg(0)
		}
		if id == "" {
			return usagef("a workflow id is required: inkflow workflows export ID")
		}
		if err := c.check(); err != nil {
			return err
		}
		raw, err := c.do(ctx, "GET", "/api/workflows/"+url.PathEscape(id)+"/export", nil)
		if err != nil {
			return err
		}
		return writeIndented(out, raw)
	case "import":
		file, rest := firstArg(args)
		name := fs.String("name", "", "the workflow's name (when the file does not say)")
		trigger := fs.String("trigger", "", "an event name or \"cron: ...\" (when the file does not say)")
		enabled := fs.Bool("enabled", false, "enable the workflow at once (default: imported disabled)")
		if err := parse(fs, rest); err != nil {
			return err
		}
		if file == "" && fs.NArg() > 0 {
			file = fs.Arg(0)
		}
		if file == "" {
			return usagef("a file is required: inkflow workflows import FILE (or - for stdin)")
		}
		if err := c.check(); err != nil {
			return err
		}
		body, err := readInput(file)
		if err != nil {
			return err
		}
		q := url.Values{}
		if *name != "" {
			q.Set("name", *name)
		}
		if *trigger != "" {
			q.Set("trigger", *trigger)
		}
		if *enabled {
			q.Set("enabled", "true")
		}
		raw, err := c.do(ctx, "POST", "/api/workflows/import?"+q.Encode(), body)
		if err != nil {
			return err
		}
		var rec struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("decode the imported workflow: %w", err)
		}
		fmt.Fprintf(out, "imported workflow %q as id:\n%d\n", rec.Name, rec.ID)
		return nil
	}
	return usagef(use)
}

// firstArg splits off a leading positional argument, so it may come before the flags.
func firstArg(args []string) (string, []string) {
	if len(args) > 0 && (args[0] == "-" || !strings.HasPrefix(args[0], "-")) {
		return args[0], args[1:]
	}
	return "", args
}

func readInput(file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(os.Stdin)
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, usagef("%s does not exist", file)
	}
	return b, err
}

func writeIndented(out io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		_, err = out.Write(raw)
		return err
	}
	buf.WriteByte('\n')
	_, err := buf.WriteTo(out)
	return err
}

// apiSend sends one event through a server's POST /api/events and returns its id: what
// `inkflow send` does when given --server (or INKFLOW_SERVER) and a token, instead of writing
// to the database. The token is a user's API token (editor or above) or an event key.
func apiSend(ctx context.Context, c *apiClient, name, id string, data map[string]any) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	ev := map[string]any{"name": name, "data": data}
	if id != "" {
		ev["id"] = id
	}
	raw, err := c.do(ctx, "POST", "/api/events", ev)
	if err != nil {
		return "", err
	}
	var res struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || len(res.IDs) != 1 {
		return "", fmt.Errorf("unexpected answer from %s: %s", c.server, raw)
	}
	return res.IDs[0], nil
}
