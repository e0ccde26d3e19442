package graph_test

import (
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/pipeline"
)

// submitFeedback's priority picks the queue of the feedback's job (NORMAL,
// the default, the queue's own name); a value outside the enum is refused
// with the values it may take.
func TestSubmitFeedbackPriority(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Launch")
	ins := asynq.NewInspectorFromRedisClient(e.rdb)
	for _, tc := range []struct {
		priority any // nil: not given
		queue    string
	}{{nil, e.queueName}, {"HIGH", e.queueName + ":high"}, {"LOW", e.queueName + ":low"}, {"NORMAL", e.queueName}} {
		in := map[string]any{"projectID": p.ID, "feedbackText": "slow page"}
		if tc.priority != nil {
			in["priority"] = tc.priority
		}
		fb := e.submit(in)
		stored, err := e.client.Feedback.Get(accesstest.System(), dbID(t, fb.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ins.GetTaskInfo(tc.queue, pipeline.JobFor(stored).ID()); err != nil {
			t.Errorf("priority %v: job not in queue %s: %v", tc.priority, tc.queue, err)
		}
	}
	bad := e.mustFail(submitMutation, map[string]any{"in": map[string]any{"projectID": p.ID, "feedbackText": "x", "priority": "URGENT"}}, "GRAPHQL_VALIDATION_FAILED")
	if !strings.Contains(bad.Message, "URGENT") || !strings.Contains(bad.Message, "AnalysisPriority") {
		t.Errorf("error for a bad priority = %q; want it to name the value and the enum", bad.Message)
	}
}
