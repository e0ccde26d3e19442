package worker_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/pipeline"
)

// The offline evaluation of issue 27 (bench/README.md, "A loop that
// learns"): a scripted team with a fixed preference the model is never told
// decides on the suggestions for 200 feedback, answered by a stub model
// that suggests a fixed mix of kinds. Run three ways: without the loop
// (REJECTION_MEMORY off, a model that ignores recent_decisions), with the
// rejection memory only, and with the memory and a model that heeds the
// recent decisions in its prompt the way the instructions ask (generic
// rules about any kind, nothing about this team). The gain has to come from
// the mechanism: the stub's suggestions depend only on the feedback's task
// and, in the last mode, on the decisions the prompt shows it.
//
//	go test ./worker/ -run TestLearningLoopEvaluation -v
func TestLearningLoopEvaluation(t *testing.T) {
	if testing.Short() {
		t.Skip("200 feedback, three times")
	}
	none := evaluate(t, 0, false)
	memory := evaluate(t, pipeline.DefaultRejectionMemory, false)
	both := evaluate(t, pipeline.DefaultRejectionMemory, true)
	t.Logf("\n| loop | acceptance, first 50 | acceptance, last 50 | repeated rejections, first 50 | repeated rejections, last 50 |\n|---|---|---|---|---|\n%s\n%s\n%s",
		none.row("none (memory off, decisions ignored)"), memory.row("REJECTION_MEMORY only"), both.row("REJECTION_MEMORY and decisions in the prompt"))
	if none.repeated[1] == 0 || memory.repeated[1] != 0 || both.repeated[1] != 0 {
		t.Errorf("repeated rejections in the last 50: %d without the loop, %d and %d with it", none.repeated[1], memory.repeated[1], both.repeated[1])
	}
	if !(memory.rate(1) > none.rate(1)) || !(both.rate(0) > memory.rate(0)) {
		t.Errorf("acceptance did not rise with the loop: %v %v %v", none, memory, both)
	}
}

// evalResult counts decisions over the first [0] and the last [1] 50 feedback.
type evalResult struct {
	applied, rejected, repeated [2]int
}

func (r evalResult) rate(i int) float64 {
	if r.applied[i]+r.rejected[i] == 0 {
		return 0
	}
	return float64(r.applied[i]) / float64(r.applied[i]+r.rejected[i])
}

func (r evalResult) row(name string) string {
	return fmt.Sprintf("| %s | %.0f%% (%d/%d) | %.0f%% (%d/%d) | %d | %d |", name,
		100*r.rate(0), r.applied[0], r.applied[0]+r.rejected[0], 100*r.rate(1), r.applied[1], r.applied[1]+r.rejected[1], r.repeated[0], r.repeated[1])
}

func evaluate(t *testing.T, memory time.Duration, heed bool) evalResult {
	const feedbacks, tasks = 200, 10
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return evalModel(r, heed) })
	e.pipeline = pipeline.New(pipeline.Config{Client: e.client, Jobs: e.jobs, RejectionMemory: memory})
	e.startWorker(workerOpts{})
	ctx := accesstest.System()
	var ids []int
	blocked := map[int]bool{}
	for i := 0; i < tasks; i++ {
		status := task.StatusInProgress
		if i%3 == 0 {
			status = task.StatusBlocked
		}
		id := e.client.Task.Create().SetProjectID(e.projectID).SetTitle(fmt.Sprintf("Task %d", i)).SetStatus(status).SetPriority(1).SaveX(ctx).ID
		ids = append(ids, id)
		blocked[id] = status == task.StatusBlocked
	}
	var res evalResult
	rejectedBefore := map[string]bool{}
	for i := 0; i < feedbacks; i++ {
		about := ids[i%tasks]
		fb := e.analysed(fmt.Sprintf("Feedback %d on this task", i), &about)
		// The team's hidden preference: never a status change; a priority
		// raise only on a blocked task; estimates welcome.
		for _, a := range fb.Edges.Adjustments {
			accept := a.AdjustmentType == adjustment.AdjustmentTypeTaskEstimate ||
				(a.AdjustmentType == adjustment.AdjustmentTypeTaskPriority && a.TaskID != nil && blocked[*a.TaskID])
			period := -1
			switch {
			case i < 50:
				period = 0
			case i >= feedbacks-50:
				period = 1
			}
			key := fmt.Sprintf("%s/%d/%s", a.AdjustmentType, deref(a.TaskID), derefs(a.NewValue))
			if accept {
				a.Update().SetStatus(adjustment.StatusApplied).SetDecidedAt(time.Now()).ExecX(ctx)
			} else {
				a.Update().SetStatus(adjustment.StatusRejected).SetDecidedAt(time.Now()).SetReason("not how we work").ExecX(ctx)
			}
			if period < 0 {
				continue
			}
			if accept {
				res.applied[period]++
			} else {
				res.rejected[period]++
				if rejectedBefore[key] {
					res.repeated[period]++
				}
			}
		}
		for _, a := range fb.Edges.Adjustments {
			if !(a.AdjustmentType == adjustment.AdjustmentTypeTaskEstimate ||
				(a.AdjustmentType == adjustment.AdjustmentTypeTaskPriority && a.TaskID != nil && blocked[*a.TaskID])) {
				rejectedBefore[fmt.Sprintf("%s/%d/%s", a.AdjustmentType, deref(a.TaskID), derefs(a.NewValue))] = true
			}
		}
	}
	return res
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func derefs(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// evalModel is the stub model: two suggestions for the feedback's task,
// a mix of kinds chosen by the feedback's number (status to DONE, priority
// up by one, estimate 8h). With heed, it follows its instructions about
// recent_decisions generically: it does not suggest again a change shown
// rejected, and leaves out a kind shown rejected twice and never applied.
func evalModel(r llmstub.Request, heed bool) llmstub.Reply {
	var doc struct {
		Feedback struct {
			Text   string `json:"text"`
			TaskID int    `json:"task_id"`
		} `json:"feedback"`
		Tasks []struct {
			ID       int `json:"id"`
			Priority int `json:"priority"`
		} `json:"tasks"`
		Decisions []struct {
			Decision string  `json:"decision"`
			Type     string  `json:"type"`
			TaskID   *int    `json:"task_id"`
			NewValue *string `json:"new_value"`
		} `json:"recent_decisions"`
	}
	if err := json.Unmarshal([]byte(r.Messages[len(r.Messages)-1].Content), &doc); err != nil {
		return llmstub.Status(400, "not the documented prompt")
	}
	n, _ := strconv.Atoi(strings.Fields(doc.Feedback.Text)[1])
	priority := 0
	for _, tk := range doc.Tasks {
		if tk.ID == doc.Feedback.TaskID {
			priority = tk.Priority
		}
	}
	candidates := []map[string]any{
		{"type": "task_status", "new_value": "DONE", "description": "Mark it done"},
		{"type": "task_priority", "new_value": strconv.Itoa(priority + 1), "description": "Raise its priority"},
		{"type": "task_estimate", "new_value": "8", "description": "Re-estimate it at 8h"},
	}
	pick := []map[string]any{candidates[n%3], candidates[(n+1)%3]}
	var out []map[string]any
	for _, c := range pick {
		c["task_id"], c["original_value"], c["reasoning"], c["confidence"] = doc.Feedback.TaskID, nil, nil, 0.7
		if heed {
			rejected, applied, same := 0, 0, false
			for _, d := range doc.Decisions {
				if d.Type != c["type"] {
					continue
				}
				if d.Decision == "applied" {
					applied++
					continue
				}
				rejected++
				same = same || (d.TaskID != nil && *d.TaskID == doc.Feedback.TaskID && d.NewValue != nil && *d.NewValue == c["new_value"])
			}
			if same || (rejected >= 2 && applied == 0) {
				continue
			}
		}
		out = append(out, c)
	}
	return toolAnswer("Stub analysis", out...)
}
