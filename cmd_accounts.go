package main

import (
	"context"
	"fmt"
	"io"

	"github.com/inkflow/inkflow/cms"
)

// The account commands work on the database directly, on the server's machine (same
// DATABASE_URL): they are how the first users, tokens and event keys come to exist.

func cmdUsers(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "set-password" {
		return cmdSetPassword(ctx, args[1:], out)
	}
	if len(args) == 0 || args[0] != "create" {
		return usageOrHelp(args, out, "usage: inkflow users create --email E --role viewer|editor|approver|admin [--password P] [--name N]\n       inkflow users set-password --email E --password P")
	}
	fs := flags("users create", out)
	cfg := loadConfig(fs)
	email := fs.String("email", "", "the user's email (required)")
	role := fs.String("role", "", "viewer, editor, approver or admin (required)")
	password := fs.String("password", "", "a password for local sign-in (optional: without one the user signs in with Google)")
	name := fs.String("name", "", "display name")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" || *role == "" {
		return usagef("--email and --role are required")
	}
	r, err := cms.ParseRole(*role)
	if err != nil {
		return usagef("--role: %v", err)
	}
	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	u, err := a.cms.Users.Create(ctx, cms.NewUser{Email: *email, Name: *name, Role: r, Password: *password})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, u.ID)
	return nil
}

// cmdSetPassword sets a user's password (for local sign-in) and signs them out everywhere.
func cmdSetPassword(ctx context.Context, args []string, out io.Writer) error {
	fs := flags("users set-password", out)
	cfg := loadConfig(fs)
	email := fs.String("email", "", "whose password (required)")
	password := fs.String("password", "", "the new password (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" || *password == "" {
		return usagef("--email and --password are required")
	}
	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	u, err := a.cms.Users.GetByEmail(ctx, *email)
	if err != nil {
		return err
	}
	if err := a.cms.Users.SetPassword(ctx, u.ID, *password); err != nil {
		return err
	}
	if err := a.cms.Sessions.RevokeUser(ctx, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(out, "password set for %s; their sessions were ended\n", u.Email)
	return nil
}

func cmdTokens(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageOrHelp(args, out, "usage: inkflow tokens create --email E [--name N]")
	}
	fs := flags("tokens create", out)
	cfg := loadConfig(fs)
	email := fs.String("email", "", "whose token (required)")
	name := fs.String("name", "cli", "what the token is for")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return usagef("--email is required")
	}
	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	u, err := a.cms.Users.GetByEmail(ctx, *email)
	if err != nil {
		return err
	}
	secret, _, err := a.cms.Tokens.Create(ctx, u.ID, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "API token for %s (shown once; send it as Authorization: Bearer):\n%s\n", u.Email, secret)
	return nil
}

func cmdKeys(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageOrHelp(args, out, "usage: inkflow keys create --name N")
	}
	fs := flags("keys create", out)
	cfg := loadConfig(fs)
	name := fs.String("name", "", "what the key is for (required)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *name == "" {
		return usagef("--name is required")
	}
	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	secret, _, err := a.cms.EventKeys.Create(ctx, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "event key %q (shown once; POST events to /e/KEY or send it as a bearer token to /api/events):\n%s\n", *name, secret)
	return nil
}
