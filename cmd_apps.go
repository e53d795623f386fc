package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// cmdApps is `inkflow apps sync URL | remove URL | list | signing-key`: Inngest SDK apps, on
// the database directly. A sync calls the app from this process; an app that syncs out-of-band posts its
// functions to the server its INNGEST_DEV or INNGEST_BASE_URL names.
func cmdApps(ctx context.Context, args []string, out io.Writer) error {
	use := "usage: inkflow apps sync URL | remove URL | list | signing-key"
	if len(args) == 0 {
		return usageOrHelp(args, out, use)
	}
	sub, rest := args[0], args[1:]
	fs := flags("apps "+sub, out)
	cfg := loadConfig(fs)
	switch sub {
	case "sync", "remove", "list", "signing-key":
	default:
		return usageOrHelp(args, out, use)
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	if sub == "sync" && fs.NArg() != 1 {
		return usagef("usage: inkflow apps sync URL (the app's serve URL, such as http://app:3000/api/inngest)")
	}
	if sub == "remove" && fs.NArg() != 1 {
		return usagef("usage: inkflow apps remove URL (the app's serve URL, as inkflow apps list shows it)")
	}
	if sub != "sync" && sub != "remove" && fs.NArg() != 0 {
		return usagef("%s", use)
	}
	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	switch sub {
	case "signing-key":
		key, err := a.apps.SigningKey(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "signing key (give it to apps as INNGEST_SIGNING_KEY; keep it secret):\n%s\n", key)
	case "list":
		apps, err := a.apps.Apps(ctx)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(out)
		for _, ap := range apps {
			if err := enc.Encode(ap); err != nil {
				return err
			}
		}
	case "remove":
		u := strings.TrimSpace(fs.Arg(0))
		n, err := a.apps.Remove(ctx, u)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "removed %s: its functions no longer run; %d runs in progress cancelled\n", u, n)
	case "sync":
		ap, err := a.apps.Sync(ctx, strings.TrimSpace(fs.Arg(0)))
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "synced %s (%s, %s): %d functions\n", ap.URL, ap.Name, ap.SDK, len(ap.Functions))
		for _, f := range ap.Functions {
			note := ""
			if len(f.NotApplied) > 0 {
				note = " (not applied: " + strings.Join(f.NotApplied, ", ") + ")"
			}
			if f.Archived {
				note += " (archived)"
			}
			fmt.Fprintf(out, "  %s%s\n", f.ID, note)
		}
	}
	return nil
}
