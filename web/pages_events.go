package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// eventsPageSize is how many events one page of /admin/events shows.
const eventsPageSize = 25

// eventsPage is /admin/events. After the send form, ?sent=<id> shows what the event started.
func (s *Server) eventsPage(c echo.Context) error {
	l := templates.EventList{Form: templates.Form{Values: map[string]string{}}}
	if id := c.QueryParam("sent"); id != "" {
		if ev, err := s.eng.GetEvent(c.Request().Context(), id); err == nil {
			redactEvent(c.Request().Context(), &ev.Event)
			l.Sent = ev
			l.Form.Values["name"] = ev.Name
		}
	}
	return s.renderEvents(c, http.StatusOK, l)
}

// eventPage is /admin/events/{id}: one event, its payload, and what each function did with
// it (the decisions of GET /api/events/{id}).
func (s *Server) eventPage(c echo.Context) error {
	d, err := s.eventDetail(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, templates.EventPage(*d.Event, d.Decisions))
}

func (s *Server) renderEvents(c echo.Context, status int, l templates.EventList) error {
	l.Name, l.Cursor = strings.TrimSpace(c.QueryParam("name")), c.QueryParam("cursor")
	if err := s.loadEvents(c.Request().Context(), &l); err != nil {
		return err
	}
	return s.render(c, status, templates.EventsPage(l))
}

// eventsStream is /admin/events/stream: the events list's live fragment as Server-Sent
// Events, so new events, the runs they start and the waiting runs they resume appear as they
// happen (as on the runs page).
func (s *Server) eventsStream(c echo.Context) error {
	l := templates.EventList{Name: strings.TrimSpace(c.QueryParam("name")), Cursor: c.QueryParam("cursor")}
	return s.stream(c, listPoll, func(ctx context.Context) (templ.Component, bool, error) {
		err := s.loadEvents(ctx, &l)
		return templates.EventsLive(l), false, err
	})
}

func (s *Server) loadEvents(ctx context.Context, l *templates.EventList) error {
	events, next, err := s.eng.ListEvents(ctx, engine.EventFilter{Name: l.Name, Cursor: l.Cursor, Limit: eventsPageSize})
	if err != nil {
		return err
	}
	redactEvents(ctx, events)
	l.Events, l.Next = events, next
	return nil
}

// sendEventPage is the "send test event" form (editors and above). The data must be a JSON
// object; a refused form is shown again with the message next to its field and nothing sent.
func (s *Server) sendEventPage(c echo.Context) error {
	name, data := strings.TrimSpace(c.FormValue("name")), c.FormValue("data")
	f := templates.Form{Values: map[string]string{"name": name, "data": data}}
	ev, err := formEvent(name, data)
	if err == nil {
		u := userOf(c)
		err = checkEventName("name", name, u != nil && u.Role.AtLeast(cms.RoleAdmin))
	}
	if err == nil {
		var res engine.SendResult
		if res, err = s.eng.Send(c.Request().Context(), ev); err == nil {
			return seeOther(c, "/admin/events?sent="+res.IDs[0])
		}
	}
	if !formErrors(err, &f) {
		return err
	}
	return s.renderEvents(c, statusFor(err), templates.EventList{Form: f})
}

// formEvent checks the form's fields: a name, and data that is empty or a JSON object.
func formEvent(name, data string) (engine.Event, error) {
	ev := engine.Event{Name: name, Data: map[string]any{}}
	if name == "" {
		return ev, engine.FieldError("name", "is required")
	}
	raw := bytes.TrimSpace([]byte(data))
	if len(raw) == 0 {
		return ev, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return ev, engine.FieldError("data", "is not valid JSON: %v (at character %d)", se, se.Offset)
		}
		return ev, engine.FieldError("data", "is not valid JSON: %v", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return ev, engine.FieldError("data", "must be a JSON object such as {\"id\": 1}, not %s", jsonTypeName(v))
	}
	ev.Data = obj
	return ev, nil
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "true or false"
	case float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
