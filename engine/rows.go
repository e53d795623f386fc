package engine

import (
	"time"

	"github.com/inkflow/inkflow/engine/store"
)

// Rows as stored; see migrations/*/00001_engine.sql. Times are Unix milliseconds.

type (
	eventRow = store.Event
	runRow   = store.Run
	stepRow  = store.Step
	waitRow  = store.Wait
)

const (
	waitEvent  = store.WaitEvent
	waitCancel = store.WaitCancel
)

// never is the expiry of rows that live as long as their run.
const never = int64(1) << 62

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromMSPtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMS(*v)
	return &t
}

func strPtr(s string) *string { return &s }
