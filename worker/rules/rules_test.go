package rules_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/plan"
	"github.com/feedbackloop/feedbackloop/suggestion"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/analysis/analysistest"
	"github.com/feedbackloop/feedbackloop/worker/rules"
)

func TestRules(t *testing.T) {
	blog := 12
	cases := []struct {
		name, text string
		taskID     *int // the task the feedback is about
		want       []string
	}{
		// type task_id new_value, one per adjustment
		{"urgent and stuck", "Checkout is urgent, customers are stuck", nil, []string{"task_priority 11 4", "task_status 11 BLOCKED"}},
		{"negated urgency", "checkout is not urgent", nil, []string{"general - -"}},
		{"done", "The checkout page works now", nil, []string{"task_status 11 DONE"}},
		{"unfinished is not finished", "the checkout page is unfinished", nil, []string{"general - -"}},
		{"blocked wins over done", "checkout page is blocked, the rest is done", nil, []string{"task_status 11 BLOCKED"}},
		{"estimate scales", "checkout page is taking longer than planned", nil, []string{"task_estimate 11 9"}},
		{"no estimate adds 4h", "the blog was underestimated", nil, []string{"task_estimate 12 4"}},
		{"unclear", "the blog task is vague", nil, []string{"task_description 12 Clarify: the blog task is vague"}},
		{"remove", "We should remove the blog.", nil, []string{"remove_task 12 -"}},
		{"new task from the text", "Please add dark mode to the checkout page.", nil, []string{"new_task - Dark mode to the checkout page"}},
		{"missing feature", "The app is missing a search box", nil, []string{"new_task - Search box"}},
		{"feedback names its task", "this is urgent", &blog, []string{"task_priority 12 2"}},
		{"urgent but no task known", "this is urgent!", nil, []string{"general - -"}},
		{"nothing matched", "nice work", nil, []string{"general - -"}},
		{"empty", "", nil, []string{"general - -"}},
	}
	a := rules.New()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := analysistest.Request()
			req.Feedback = analysis.Feedback{Text: c.text, TaskID: c.taskID}
			res, err := a.Analyze(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, adj := range res.Adjustments {
				id, v := "-", "-"
				if adj.TaskID != nil {
					id = strconv.Itoa(*adj.TaskID)
				}
				if adj.NewValue != nil {
					v = *adj.NewValue
					if i := strings.LastIndex(v, "\n"); i >= 0 {
						v = v[i+1:] // the added clarification
					}
				}
				k, _ := suggestion.ByType(adj.Type)
				got = append(got, k.Name+" "+id+" "+v)
				if c := adj.Confidence; c == nil || *c <= 0 || *c > 1 {
					t.Errorf("%s: confidence %v, want one in (0, 1]", k.Name, c)
				}
			}
			if strings.Join(got, " | ") != strings.Join(c.want, " | ") {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
			if !strings.HasPrefix(res.Summary, "Rule-based analysis (built-in planner, not an LLM): ") || res.Provider != "builtin" || res.Model != "rules-v1" {
				t.Errorf("result %+v", res)
			}
			// Its output passes the validation model answers get, unchanged.
			again, err := analysis.ParseAnswer(analysistest.AnswerJSON(t, res), req)
			if err != nil {
				t.Fatalf("built-in output fails validation: %v", err)
			}
			if analysistest.AnswerJSON(t, again) != analysistest.AnswerJSON(t, res) {
				t.Errorf("validation changed the output:\n%s\n%s", analysistest.AnswerJSON(t, res), analysistest.AnswerJSON(t, again))
			}
		})
	}
}

func TestRulesAreDeterministicAndBounded(t *testing.T) {
	a := rules.New()
	req := analysistest.Request()
	long := strings.Repeat("word ", 1000)
	req.Tasks[0].Title = "Checkout " + long
	req.Tasks[0].Description = long
	req.Feedback.Text = "checkout is vague and urgent, add " + long
	first, err := a.Analyze(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, _ := a.Analyze(context.Background(), req)
		if analysistest.AnswerJSON(t, again) != analysistest.AnswerJSON(t, first) {
			t.Fatal("the built-in planner is not deterministic")
		}
	}
	if _, err := analysis.ParseAnswer(analysistest.AnswerJSON(t, first), req); err != nil {
		t.Fatalf("long inputs give an invalid answer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Analyze(ctx, req); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// A re-estimate never goes beyond what a suggestion may carry.
func TestRulesCapTheEstimate(t *testing.T) {
	for _, c := range []struct {
		hours float64
		want  string
	}{{9000, "TASK_ESTIMATE 10000"}, {suggestion.MaxEstimateHours, "GENERAL"}} {
		req := analysistest.Request()
		req.Tasks[0].EstimatedHours = &c.hours
		req.Feedback.Text = "checkout is taking longer"
		res, err := rules.New().Analyze(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		a := res.Adjustments[0]
		got := string(a.Type)
		if a.NewValue != nil {
			got += " " + *a.NewValue
		}
		if len(res.Adjustments) != 1 || got != c.want {
			t.Errorf("estimate %v: %q, want %q", c.hours, got, c.want)
		}
		if _, err := analysis.ParseAnswer(analysistest.AnswerJSON(t, res), req); err != nil {
			t.Errorf("estimate %v: %v", c.hours, err)
		}
	}
}

// The built-in planner claims the original values the pipeline reads from
// the task (suggestion.Kind.Original), so its suggestions never carry a
// claimedOriginalValue; a description too long to quote whole is not
// claimed at all.
func TestRulesClaimWhatTheTaskHolds(t *testing.T) {
	long := strings.TrimSpace(strings.Repeat("a long description ", analysis.MaxText/10))
	for _, c := range []struct{ name, text, description string }{
		{"urgent and stuck", "Checkout is urgent, customers are stuck", ""},
		{"done", "The checkout page works now", ""},
		{"estimate", "checkout page is taking longer than planned", ""},
		{"no estimate", "the blog was underestimated", ""},
		{"unclear", "the checkout page is vague", ""},
		{"unclear and long", "the checkout page is vague", long},
		{"remove", "We should remove the blog.", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := analysistest.Request()
			req.Feedback.TaskID = nil
			if c.description != "" {
				req.Tasks[0].Description = c.description
			}
			req.Feedback.Text = c.text
			res, err := rules.New().Analyze(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range res.Adjustments {
				k, _ := suggestion.ByType(a.Type)
				if a.TaskID == nil || !k.TargetsTask {
					t.Fatalf("%s: no task to compare with", k.Name)
				}
				var held *string
				for _, tk := range req.Tasks {
					if tk.ID == *a.TaskID {
						held = plan.Original(k, asTask(tk))
					}
				}
				switch {
				case held != nil && utf8.RuneCountInString(*held) > analysis.MaxText && a.OriginalValue != nil:
					t.Errorf("%s claims %d characters of a value of %d", k.Name, utf8.RuneCountInString(*a.OriginalValue), utf8.RuneCountInString(*held))
				case a.OriginalValue != nil && !k.Same(held, *a.OriginalValue):
					t.Errorf("%s claims %q; the task holds %v", k.Name, *a.OriginalValue, held)
				}
			}
		})
	}
}

// asTask is the stored task an analysis task was read from.
func asTask(t analysis.Task) *ent.Task {
	out := &ent.Task{ID: t.ID, Title: t.Title, Status: task.Status(t.Status), Priority: t.Priority, EstimatedHours: t.EstimatedHours}
	if t.Description != "" {
		out.Description = &t.Description
	}
	return out
}

// Kinds the project keeps rejecting are down-ranked: lower confidence and
// later in the list, never dropped. The counts are the request's, nothing
// the planner keeps.
func TestRulesDownRankKindsTheTeamRejects(t *testing.T) {
	a := rules.New()
	req := analysistest.Request()
	req.Feedback = analysis.Feedback{Text: "Checkout is urgent, customers are stuck"}
	show := func(res analysis.Result) string {
		var got []string
		for _, adj := range res.Adjustments {
			k, _ := suggestion.ByType(adj.Type)
			got = append(got, k.Name+"="+strconv.FormatFloat(*adj.Confidence, 'f', -1, 64))
		}
		return strings.Join(got, " ")
	}
	res, err := a.Analyze(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := show(res); got != "task_priority=0.75 task_status=0.7" {
		t.Errorf("without decisions: %s", got)
	}
	req.Record = []analysis.KindRecord{
		{Type: adjustment.AdjustmentTypeTaskPriority, Applied: 8, Rejected: 6},
		{Type: adjustment.AdjustmentTypeTaskStatus, Applied: 4},
	}
	if res, err = a.Analyze(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	// 0.75 × (1 − 6/16) = 0.47 for priority; status, never rejected, keeps 0.7.
	if got := show(res); got != "task_status=0.7 task_priority=0.47" {
		t.Errorf("with priority changes often rejected: %s", got)
	}
	if _, err := analysis.ParseAnswer(analysistest.AnswerJSON(t, res), req); err != nil {
		t.Errorf("down-ranked output fails validation: %v", err)
	}
	// The advice of a feedback no rule matches is down-ranked alike.
	req.Feedback.Text, req.Record = "nice work", []analysis.KindRecord{{Type: adjustment.AdjustmentTypeGeneral, Rejected: 2}}
	if res, err = a.Analyze(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := show(res); got != "general=0.15" {
		t.Errorf("general advice often rejected: %s", got)
	}
}
