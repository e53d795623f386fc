package workflow

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// Validating ever more distinct `cel:` conditions does not keep ever more memory: programs go
// into the process's one bounded cache (20 requests of 500 conditions once kept 600 MiB). The
// heap after 12 requests is no bigger than after 3 plus what 3 requests retained: a ratio,
// not a figure tied to this machine.
func TestValidatingManyConditionsKeepsBoundedMemory(t *testing.T) {
	reg := testRegistry(t)
	validate := func(r int) {
		actions := []string{`{"id":"a","kind":"test"}`}
		edges := []string{`{"from":"$source","to":"a"}`}
		for i := range 400 {
			id := fmt.Sprintf("b%d", i)
			actions = append(actions, `{"id":"`+id+`","kind":"test"}`)
			cond := fmt.Sprintf("cel: event.data.items.exists(x, x.kind == 'k%d-%d' && x.size > %d) || "+
				"event.data.tags.all(t, t.startsWith('p%d') || t.endsWith('s%d')) || "+
				"(has(event.data.user) && event.data.user.name in ['a%d', 'b%d', 'c%d'])", r, i, i, i, i, i, i, i)
			edges = append(edges, `{"from":"a","to":"`+id+`","conditional":{"type":"if","ref":"`+cond+`"}}`)
		}
		doc := `{"actions":[` + strings.Join(actions, ",") + `],"edges":[` + strings.Join(edges, ",") + `]}`
		if _, err := DecodeValidate([]byte(doc), reg); err != nil {
			t.Fatal(err)
		}
	}
	heap := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	start := heap()
	for r := range 3 {
		validate(r)
	}
	first := heap() - start
	for r := 3; r < 12; r++ {
		validate(r)
	}
	more := heap() - start - first
	t.Logf("heap: +%d KiB after 1,200 conditions, then +%d KiB after 3,600 more", first>>10, more>>10)
	if more > first {
		t.Fatalf("the heap keeps growing with distinct conditions: +%d KiB, then +%d KiB", first>>10, more>>10)
	}
}
