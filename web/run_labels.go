package web

import (
	"context"
	"strconv"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// runLabels names runs as people know them: a workflow run by its workflow's name (every
// workflow runs in the one "workflow-runner" function, so its id says nothing), any other run
// by its function's name, and a run that a post's event started by that post's title. One
// query for the workflows (when the caller has none) and one for the posts, whatever the
// number of runs.
func (s *Server) runLabels(ctx context.Context, runs []engine.Run, workflows map[int64]string) (map[string]templates.RunLabel, error) {
	out := make(map[string]templates.RunLabel, len(runs))
	if len(runs) == 0 {
		return out, nil
	}
	if workflows == nil {
		var err error
		if workflows, err = s.workflowNames(ctx); err != nil {
			return nil, err
		}
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	posts, err := s.cms.Posts.RunPosts(ctx, ids)
	if err != nil {
		return nil, err
	}
	fnNames := map[string]string{}
	if s.eng != nil {
		for _, fn := range s.eng.Functions() {
			if fn.Name != "" {
				fnNames[fn.ID] = fn.Name
			}
		}
	}
	for _, r := range runs {
		l := templates.RunLabel{Name: r.FunctionID}
		if n := fnNames[r.FunctionID]; n != "" {
			l.Name = n
		}
		if r.WorkflowID != nil {
			l.Name = workflows[*r.WorkflowID]
			if l.Name == "" {
				l.Name = "workflow #" + strconv.FormatInt(*r.WorkflowID, 10)
			}
		}
		if p, ok := posts[r.ID]; ok {
			l.PostID, l.PostTitle = p.PostID, p.Title
		}
		out[r.ID] = l
	}
	return out, nil
}

// workflowNames maps workflow ids to names (empty without a workflow store). Deleted
// workflows are not listed; their runs fall back to "workflow #id".
func (s *Server) workflowNames(ctx context.Context) (map[int64]string, error) {
	out := map[int64]string{}
	if s.cfg.Workflows == nil {
		return out, nil
	}
	list, err := s.cfg.Workflows.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range list {
		out[w.ID] = w.Name
	}
	return out, nil
}
