package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
)

// The Inngest-compatible event intake: POST /e/{eventKey}.
//
// It accepts exactly what the Inngest SDKs send (one event or an array of events with name,
// data, user, id, ts, v and the SDK's extra fields, which are ignored) and answers the way
// Inngest's event API does, so an app that calls inngest.send() only needs its base URL and
// event key pointed at inkflow:
//
//	200 {"ids": [...], "status": 200}                      every event stored
//	400 {"ids": [], "status": 400, "error": "..."}         bad JSON or an invalid event
//	401 {"status": 401, "message": "", "error": "Event key not found"}
//	413 {"ids": [], "status": 413, "error": "..."}         over the size limits
//	500 {"ids": [], "status": 500, "error": "internal error"}
//
// Unlike Inngest, which stores the events of an array one by one, inkflow stores all of them
// or none: a 400 means nothing was stored, so a client may resend the whole batch.

// intakeResponse is the body of an answer to a request that reached the events.
type intakeResponse struct {
	IDs    []string `json:"ids"`
	Status int      `json:"status"`
	Error  string   `json:"error,omitempty"`
}

// intakeKeyResponse is the body of a refused event key, shaped as Inngest's.
type intakeKeyResponse struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

// Inngest refuses timestamps outside these bounds; so do we.
var (
	intakeMinTS = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	intakeMaxTS = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
)

// intake is POST /e/:key.
func (s *Server) intake(c echo.Context) error {
	ctx := c.Request().Context()
	key := c.Param("key")
	if key == "" {
		return c.JSON(http.StatusUnauthorized, intakeKeyResponse{Status: http.StatusUnauthorized, Error: "Event key is required"})
	}
	if err := s.verifyEventKey(ctx, key); err != nil {
		if engine.ErrorCode(err) == engine.EUnauthorized {
			return c.JSON(http.StatusUnauthorized, intakeKeyResponse{Status: http.StatusUnauthorized, Error: "Event key not found"})
		}
		return s.intakeFailed(c, err)
	}
	events, err := decodeIntake(c.Request().Body)
	if err != nil {
		return s.intakeFailed(c, err)
	}
	res, err := s.eng.Send(ctx, events...)
	if err != nil {
		return s.intakeFailed(c, err)
	}
	return c.JSON(http.StatusOK, intakeResponse{IDs: res.IDs, Status: http.StatusOK})
}

// verifyEventKey accepts Config.EventKey (INKFLOW_EVENT_KEY) and the live keys admins made.
func (s *Server) verifyEventKey(ctx context.Context, key string) error {
	if s.cfg.EventKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.EventKey)) == 1 {
		return nil
	}
	if key == devEventKey && s.cfg.Apps != nil && s.cfg.Apps.Dev() {
		return nil // what SDKs in dev mode send (INKFLOW_INNGEST_DEV=1 only)
	}
	return s.cms.EventKeys.Verify(ctx, key)
}

// devEventKey is the event key Inngest SDKs send in dev mode when none is set.
const devEventKey = "NO_EVENT_KEY_SET"

// intakeFailed answers an error in Inngest's shape: 400 for what the client sent, 413 for
// size, 500 (logged, never shown) for the rest.
func (s *Server) intakeFailed(c echo.Context, err error) error {
	status := http.StatusBadRequest
	msg := engine.ErrorMessage(err)
	var mbe *http.MaxBytesError
	switch code := engine.ErrorCode(err); {
	case isRefusedName(err):
		status = http.StatusUnprocessableEntity
	case errors.As(err, &mbe) || code == engine.ETooLarge:
		status = http.StatusRequestEntityTooLarge
		if mbe != nil {
			msg = fmt.Sprintf("request body is over %d bytes", mbe.Limit)
		}
	case code == engine.EInvalid:
	default:
		status = http.StatusInternalServerError
		msg = "internal error"
		s.log.ErrorContext(c.Request().Context(), "event intake failed", "err", err)
	}
	return c.JSON(status, intakeResponse{IDs: []string{}, Status: status, Error: msg})
}

// intakeEvent is one event as the Inngest SDKs send it. Data stays raw so that a non-object
// is refused with its index named.
type intakeEvent struct {
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
	User json.RawMessage `json:"user"`
	ID   string          `json:"id"`
	TS   int64           `json:"ts"`
	V    string          `json:"v"`
}

// decodeIntake reads one event or an array of them and validates every one before any is
// stored.
func decodeIntake(body io.Reader) ([]engine.Event, error) {
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, engine.Errorf(engine.EInvalid, "no events in the request body")
	}
	var ins []intakeEvent
	if raw[0] == '[' {
		err = json.Unmarshal(raw, &ins)
	} else {
		ins = make([]intakeEvent, 1)
		err = json.Unmarshal(raw, &ins[0])
	}
	if err != nil {
		return nil, engine.Errorf(engine.EInvalid, "invalid JSON: %v", err)
	}
	if len(ins) == 0 {
		return nil, engine.Errorf(engine.EInvalid, "no events in the request body")
	}
	out := make([]engine.Event, len(ins))
	for i, in := range ins {
		ev, err := in.toEvent()
		if err != nil {
			if len(ins) > 1 && !isRefusedName(err) {
				return nil, engine.Errorf(engine.EInvalid, "event %d: %s", i, err.Error())
			}
			return nil, err
		}
		out[i] = ev
	}
	return out, nil
}

// toEvent validates the event as Inngest does: a name that is not reserved, data and user
// objects, a timestamp between 1980 and 2100. Inngest's own metadata in data._inngest is
// dropped, as Inngest drops it from external events.
func (in intakeEvent) toEvent() (engine.Event, error) {
	ev := engine.Event{Name: in.Name, ID: in.ID, TS: in.TS, V: in.V}
	if strings.TrimSpace(in.Name) == "" {
		return ev, engine.Errorf(engine.EInvalid, "event name is empty")
	}
	if engine.HasPrefixFold(in.Name, cms.EventPrefix) {
		return ev, checkEventName("name", in.Name, false)
	}
	if engine.ReservedPrefix(in.Name) != "" {
		return ev, engine.Errorf(engine.EInvalid, "event name is reserved for internal use: %s", in.Name)
	}
	if err := decodeObject(in.Data, &ev.Data); err != nil {
		return ev, engine.Errorf(engine.EInvalid, "data must be a JSON object")
	}
	if err := decodeObject(in.User, &ev.User); err != nil {
		return ev, engine.Errorf(engine.EInvalid, "user must be a JSON object")
	}
	delete(ev.Data, "_inngest")
	if in.TS != 0 && in.TS < intakeMinTS {
		return ev, engine.Errorf(engine.EInvalid, "timestamp is before Jan 1, 1980")
	}
	if in.TS > intakeMaxTS {
		return ev, engine.Errorf(engine.EInvalid, "timestamp is after Jan 1, 2100")
	}
	return ev, nil
}

// decodeObject decodes a JSON object into dst; absent or null leaves dst nil.
func decodeObject(raw json.RawMessage, dst *map[string]any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] != '{' {
		return errors.New("not an object")
	}
	return json.Unmarshal(raw, dst)
}
