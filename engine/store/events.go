package store

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
)

var eventCols = []string{"id", "client_id", "name", "payload", "ts", "received_at", "run_ids", "notes"}

// InsertEvents stores events.
func (q *Q) InsertEvents(events []Event) error {
	err := insertRows(q.g, "events", eventCols, len(events), func(i int) []any {
		e := &events[i]
		return []any{e.ID, e.ClientID, e.Name, e.Payload, e.TS, e.ReceivedAt, e.RunIDs, e.Notes}
	})
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// GetEvent reads one stored event; ErrNotFound if there is none.
func (q *Q) GetEvent(id string) (*Event, error) {
	var r Event
	if err := q.g.Where("id = ?", id).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load event %s: %w", id, err)
	}
	return &r, nil
}

// ListEvents returns up to limit events (named name, when given) with ids below before (""
// for the newest), newest first.
func (q *Q) ListEvents(name, before string, limit int) ([]Event, error) {
	sel := q.g.Model(&Event{})
	if name != "" {
		sel = sel.Where("name = ?", name)
	}
	if before != "" {
		sel = sel.Where("id < ?", before)
	}
	var rows []Event
	if err := sel.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return rows, nil
}

// EventsSince returns the events named names received at or after since, oldest first: what
// a new wait looks back at.
func (q *Q) EventsSince(names []string, since int64) ([]Event, error) {
	var rows []Event
	if err := q.g.Where("name IN ? AND received_at >= ?", names, since).Order("received_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("look back for %v: %w", names, err)
	}
	return rows, nil
}

// RecordClientID records client id clientID as event eventID unless it was recorded at or
// after windowStart, and reports whether it did (the event is new).
func (q *Q) RecordClientID(clientID, eventID string, now, windowStart int64) (bool, error) {
	var got []string
	err := q.g.Raw(`INSERT INTO event_dedup (client_id, event_id, seen_at) VALUES (?, ?, ?)
		ON CONFLICT (client_id) DO UPDATE SET event_id = excluded.event_id, seen_at = excluded.seen_at
		WHERE event_dedup.seen_at < ? RETURNING event_id`, clientID, eventID, now, windowStart).Scan(&got).Error
	if err != nil {
		return false, fmt.Errorf("deduplicate event %q: %w", clientID, err)
	}
	return len(got) == 1, nil
}

// ClientEventID returns the event id client id clientID was recorded with.
func (q *Q) ClientEventID(clientID string) (string, error) {
	var prev string
	if err := q.g.Raw(`SELECT event_id FROM event_dedup WHERE client_id = ?`, clientID).Scan(&prev).Error; err != nil {
		return "", fmt.Errorf("deduplicate event %q: %w", clientID, err)
	}
	return prev, nil
}

// EventsByID returns the stored events ids (those that still exist).
func (q *Q) EventsByID(ids []string) ([]Event, error) {
	var rows []Event
	if err := q.g.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load events: %w", err)
	}
	return rows, nil
}
