package workflow

import (
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

func TestReproWaitThenSleep(t *testing.T) {
	for name, js := range map[string]string{
		"serial":    `{"actions":[{"id":"w","kind":"wait_for_event","inputs":{"event":"never","timeout":"20ms"}},{"id":"nap","kind":"sleep","inputs":{"duration":"10ms"}}],"edges":[{"from":"$source","to":"w"},{"from":"w","to":"nap"}]}`,
		"sleeponly": `{"actions":[{"id":"nap","kind":"sleep","inputs":{"duration":"10ms"}}],"edges":[{"from":"$source","to":"nap"}]}`,
		"parallel":  `{"actions":[{"id":"a","kind":"echo","inputs":{"value":1}},{"id":"w","kind":"wait_for_event","inputs":{"event":"never","timeout":"20ms"}},{"id":"nap","kind":"sleep","inputs":{"duration":"10ms"}}],"edges":[{"from":"$source","to":"w"},{"from":"$source","to":"a"},{"from":"a","to":"nap"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			sys := startSystem(t, testdb.SQLite(t))
			sys.create("go", js)
			sys.await(sys.send("go", nil)[0], engine.StatusCompleted)
		})
	}
}

func TestReproWaitOnly(t *testing.T) {
	sys := startSystem(t, testdb.SQLite(t))
	sys.create("go", `{"actions":[{"id":"w","kind":"wait_for_event","inputs":{"event":"never","timeout":"20ms"}}],"edges":[{"from":"$source","to":"w"}]}`)
	sys.await(sys.send("go", nil)[0], engine.StatusCompleted)
}
