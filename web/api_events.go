package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
)

// eventIn is one event as clients send it. Data stays raw so that a non-object is refused
// with its field named rather than silently dropped.
type eventIn struct {
	ID   string          `json:"id"`
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
	User map[string]any  `json:"user"`
	TS   int64           `json:"ts"`
	V    string          `json:"v"`
}

// toEvent validates the client's event; prefix names it within an array ("events[3].").
// internalOK lets the caller send engine event names (inkflow/...): admins may, for a
// workflow's "Test run" of a schedule, say; nobody else can fake engine events.
func (in eventIn) toEvent(prefix string, internalOK bool) (engine.Event, error) {
	ev := engine.Event{ID: in.ID, Name: in.Name, User: in.User, TS: in.TS, V: in.V}
	if in.Name == "" {
		return ev, engine.FieldError(prefix+"name", "is required")
	}
	if err := checkEventName(prefix+"name", in.Name, internalOK); err != nil {
		return ev, err
	}
	if len(bytes.TrimSpace(in.Data)) > 0 && string(bytes.TrimSpace(in.Data)) != "null" {
		if err := json.Unmarshal(in.Data, &ev.Data); err != nil {
			return ev, engine.FieldError(prefix+"data", "must be a JSON object")
		}
	}
	if in.TS < 0 {
		return ev, engine.FieldError(prefix+"ts", "must be milliseconds since 1970")
	}
	return ev, nil
}

// decodeEvents reads one event or an array of events from the body.
func decodeEvents(body io.Reader, internalOK bool) ([]engine.Event, error) {
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err // a *http.MaxBytesError becomes 413
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, newBadRequest("", "send an event {\"name\": ..., \"data\": {...}} or an array of them")
	}
	var ins []eventIn
	array := raw[0] == '['
	if array {
		if err := decodeJSON(bytes.NewReader(raw), &ins); err != nil {
			return nil, err
		}
		if len(ins) == 0 {
			return nil, newBadRequest("", "the array of events is empty")
		}
	} else {
		var one eventIn
		if err := decodeJSON(bytes.NewReader(raw), &one); err != nil {
			return nil, err
		}
		ins = []eventIn{one}
	}
	events := make([]engine.Event, len(ins))
	for i, in := range ins {
		prefix := ""
		if array {
			prefix = fmt.Sprintf("events[%d].", i)
		}
		ev, err := in.toEvent(prefix, internalOK)
		if err != nil {
			return nil, err
		}
		events[i] = ev
	}
	return events, nil
}

// sendEvents is POST /api/events: editors and above, or the holder of an event key.
func (s *Server) sendEvents(c echo.Context) error {
	if err := s.mayIngest(c); err != nil {
		return err
	}
	u := userOf(c)
	events, err := decodeEvents(c.Request().Body, u != nil && u.Role.AtLeast(cms.RoleAdmin))
	if err != nil {
		return err
	}
	res, err := s.eng.Send(c.Request().Context(), events...)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// mayIngest lets editors and above send events, and anyone presenting a valid event key as
// a bearer token.
func (s *Server) mayIngest(c echo.Context) error {
	if u := userOf(c); u != nil {
		if !u.Role.AtLeast(cms.RoleEditor) {
			return engine.Errorf(engine.EForbidden, "sending events needs the editor role; you are %s", u.Role)
		}
		return nil
	}
	tok, _ := c.Get(bearerKey).(string)
	if tok == "" {
		return engine.Errorf(engine.EUnauthorized, "sign in, or send an API token or event key as Authorization: Bearer")
	}
	return s.cms.EventKeys.Verify(c.Request().Context(), tok)
}

type listEventsReq struct {
	Name   string `query:"name"`
	Limit  int    `query:"limit"`
	Cursor string `query:"cursor"`
}

type listEventsResp struct {
	Events []engine.StoredEvent `json:"events"`
	Next   string               `json:"next"`
}

func (s *Server) listEvents(c echo.Context, req *listEventsReq) (*listEventsResp, error) {
	events, next, err := s.eng.ListEvents(c.Request().Context(), engine.EventFilter{Name: req.Name, Limit: req.Limit, Cursor: req.Cursor})
	if err != nil {
		return nil, err
	}
	redactEvents(c.Request().Context(), events)
	return &listEventsResp{Events: events, Next: next}, nil
}

type eventReq struct {
	ID string `param:"id"`
}

// eventDetail is GET /api/events/{id}: the event and what each function did with it (plain
// starts, and starts that flow control delayed, dropped, skipped, debounced or batched).
type eventDetail struct {
	Event     *engine.StoredEvent `json:"event"`
	Decisions []engine.Decision   `json:"decisions"`
}

func (s *Server) getEvent(c echo.Context, req *eventReq) (*eventDetail, error) {
	return s.eventDetail(c.Request().Context(), req.ID)
}

func (s *Server) eventDetail(ctx context.Context, id string) (*eventDetail, error) {
	ev, err := s.eng.GetEvent(ctx, id)
	if err != nil {
		return nil, err
	}
	redactEvent(ctx, &ev.Event) // as the events list: a failure's error hides internals from non-admins
	ds, err := s.eng.Decisions(ctx, ev.StoreID)
	if err != nil {
		return nil, err
	}
	return &eventDetail{Event: ev, Decisions: ds}, nil
}
