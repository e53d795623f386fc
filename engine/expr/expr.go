// Package expr evaluates the CEL expressions that workflows and functions carry (trigger and
// wait conditions, workflow edges and builtin:if) with bounded work, whoever wrote them and
// whatever they read: one cache of compiled programs for the whole process, bounded in
// entries and in source size; a cost limit on every evaluation and an interrupt at its
// deadline. Every error names the expression it is about.
package expr

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types/ref"
)

// Limits of one expression. They are generous for conditions people write (a comparison
// of a few fields, a list check over a page of tags) and small against what a hostile one
// could make a worker do.
const (
	// MaxSourceBytes is the longest expression accepted.
	MaxSourceBytes = 4 << 10
	// MaxPrograms is how many compiled programs the process keeps (least recently used go).
	MaxPrograms = 1000
	// CostLimit bounds one evaluation in CEL's cost units (about one per operation or
	// element visited): past it the evaluation stops with an error.
	CostLimit = 1_000_000
	// Deadline bounds one evaluation in time, whatever its cost.
	Deadline = 100 * time.Millisecond
	// checkEvery is how many comprehension iterations run between interrupt checks.
	checkEvery = 100
)

// Error is an expression that cannot be compiled or evaluated, named. OverLimit reports a
// cost limit or deadline (the expression is too expensive for its input), as opposed to a
// mistake in it or a field missing from the input.
type Error struct {
	Expr      string
	Err       error
	OverLimit bool
}

func (e *Error) Error() string { return fmt.Sprintf("CEL expression %s: %v", Quote(e.Expr), e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Quote is src quoted for a message, cut to a readable length.
func Quote(src string) string {
	if len(src) > 120 {
		cut := 117
		for cut > 0 && !isRuneStart(src[cut]) {
			cut--
		}
		return fmt.Sprintf("%q...", src[:cut])
	}
	return fmt.Sprintf("%q", src)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// IsOverLimit reports whether err is an expression stopped by the cost limit or deadline.
func IsOverLimit(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.OverLimit
}

// Env is a CEL environment (its variables) whose programs share the process's cache.
type Env struct {
	name string
	env  *cel.Env
}

// NewEnv returns an environment named name (unique in the process: it keys the cache).
func NewEnv(name string, opts ...cel.EnvOption) (*Env, error) {
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("cel environment %s: %w", name, err)
	}
	return &Env{name: name, env: env}, nil
}

// Compile returns the program for src from the cache, compiling it on a miss.
func (e *Env) Compile(src string) (cel.Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Expr: src, Err: errors.New("is empty")}
	}
	if len(src) > MaxSourceBytes {
		return nil, &Error{Expr: src, Err: fmt.Errorf("is %d bytes; the limit is %d", len(src), MaxSourceBytes), OverLimit: true}
	}
	key := e.name + "\x00" + src
	if p, ok := programs.get(key); ok {
		return p, nil
	}
	ast, iss := e.env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, &Error{Expr: src, Err: iss.Err()}
	}
	p, err := e.env.Program(ast, cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(checkEvery))
	if err != nil {
		return nil, &Error{Expr: src, Err: err}
	}
	programs.put(key, p)
	return p, nil
}

// Eval evaluates src over vars within CostLimit and Deadline (or ctx's own, if sooner).
func (e *Env) Eval(ctx context.Context, src string, vars map[string]any) (ref.Val, error) {
	p, err := e.Compile(src)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, Deadline)
	defer cancel()
	out, _, err := p.ContextEval(ctx, vars)
	if err != nil {
		over := ctx.Err() != nil || strings.Contains(err.Error(), "cost limit exceeded")
		if over && ctx.Err() != nil {
			err = fmt.Errorf("stopped after %s (the limit for one evaluation)", Deadline)
		} else if over {
			err = fmt.Errorf("stopped at the cost limit (%d)", CostLimit)
		}
		return nil, &Error{Expr: src, Err: err, OverLimit: over}
	}
	return out, nil
}

// Cached returns how many programs the cache holds.
func Cached() int { return programs.len() }

// programs is the process's one cache of compiled programs.
var programs = newLRU(MaxPrograms)

type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used
	items map[string]*list.Element
}

type entry struct {
	key string
	p   cel.Program
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lru) get(key string) (cel.Program, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry).p, true
}

func (c *lru) put(key string, p cel.Program) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&entry{key, p})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*entry).key)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
