package templates

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
)

// A run's times read in the site's time zone (Settings), with the exact UTC instant kept in
// the datetime attribute for machines and the tooltip.
func TestTimestampUsesTheSiteTimeZone(t *testing.T) {
	at := time.Date(2026, 1, 15, 9, 30, 5, 0, time.UTC)
	for _, c := range []struct{ zone, want string }{
		{"", "15 Jan 09:30:05 UTC"},
		{"America/New_York", "15 Jan 04:30:05 EST"},
		{"Asia/Tokyo", "15 Jan 18:30:05 JST"},
	} {
		ctx := WithViewer(context.Background(), &Viewer{Site: cms.Site{TimeZone: c.zone}})
		var b strings.Builder
		if err := Timestamp(at).Render(ctx, &b); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		if !strings.Contains(got, ">"+c.want+"<") || !strings.Contains(got, `datetime="2026-01-15T09:30:05Z"`) {
			t.Errorf("zone %q: %s, want the text %q and the UTC datetime", c.zone, got, c.want)
		}
	}
}
