package reliability

import (
	"regexp"
	"strconv"

	"github.com/inkflow/inkflow/actions/aitest"
)

// markerRE finds the post a model request is about: each AI post's text carries relpost-N.
var markerRE = regexp.MustCompile(`relpost-(\d+)`)

// lateCalls counts the requests for task about post that reached the model after ms (Unix
// ms): a committed AI step asked again.
func lateCalls(m *aitest.Server, task string, post int, ms int64) int {
	n := 0
	for _, c := range m.Calls() {
		if c.Task != task || c.At.UnixMilli() <= ms {
			continue
		}
		if mm := markerRE.FindStringSubmatch(c.User); mm != nil {
			if p, _ := strconv.Atoi(mm[1]); p == post {
				n++
			}
		}
	}
	return n
}
