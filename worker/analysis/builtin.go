package analysis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// NewBuiltin returns the built-in planner: a few deterministic keyword rules,
// not an LLM. It lets the whole flow run without a model or an API key, and
// says so in every summary.
func NewBuiltin() Analyzer { return builtin{} }

type builtin struct{}

func (builtin) Provider() string { return "builtin" }
func (builtin) Model() string    { return "rules-v1" }

// rule matches feedback by keywords and suggests one change to a task.
type rule struct {
	signal  string // what the rule looks for, named in the summary
	words   []string
	suggest func(t *Task, text string) (Adjustment, bool)
}

var builtinRules = []rule{
	{"urgency", []string{"urgent", "asap", "critical", "blocker", "immediately", "right away"}, func(t *Task, _ string) (Adjustment, bool) {
		if t == nil || t.Priority >= maxPriority {
			return Adjustment{}, false
		}
		to := min(maxPriority, t.Priority+2)
		return change(TaskPriority, t, strconv.Itoa(t.Priority), strconv.Itoa(to),
			fmt.Sprintf("Raise the priority of %q to %d", t.Title, to), "the feedback calls it urgent"), true
	}},
	{"a blocker", []string{"blocked", "stuck", "waiting on", "waiting for", "can't proceed", "cannot proceed"}, func(t *Task, _ string) (Adjustment, bool) {
		if t == nil || t.Status == "BLOCKED" {
			return Adjustment{}, false
		}
		return change(TaskStatus, t, t.Status, "BLOCKED", fmt.Sprintf("Mark %q as blocked", t.Title), "the feedback reports it cannot move forward"), true
	}},
	{"completion", []string{"done", "finished", "works now", "completed", "shipped"}, func(t *Task, _ string) (Adjustment, bool) {
		if t == nil || t.Status == "DONE" {
			return Adjustment{}, false
		}
		return change(TaskStatus, t, t.Status, "DONE", fmt.Sprintf("Mark %q as done", t.Title), "the feedback says it is finished"), true
	}},
	{"a delay", []string{"slow", "takes longer", "underestimated", "more time", "too long", "behind schedule"}, func(t *Task, _ string) (Adjustment, bool) {
		if t == nil {
			return Adjustment{}, false
		}
		from, to := "none", 8.0
		if t.EstimatedHours != nil {
			from, to = hours(*t.EstimatedHours), *t.EstimatedHours*1.5
			if to == 0 {
				to = 4
			}
		}
		return change(TaskEstimate, t, from, hours(to), fmt.Sprintf("Re-estimate %q at %sh", t.Title, hours(to)), "the feedback says it takes longer than planned"), true
	}},
	{"an unclear description", []string{"unclear", "confusing", "vague", "don't understand", "ambiguous"}, func(t *Task, text string) (Adjustment, bool) {
		if t == nil {
			return Adjustment{}, false
		}
		return change(TaskDescription, t, t.Description, strings.TrimSpace(t.Description+"\nClarify: "+firstSentence(text)),
			fmt.Sprintf("Clarify the description of %q", t.Title), "the feedback finds it unclear"), true
	}},
	{"something not needed", []string{"remove", "unnecessary", "not needed", "no longer needed", "drop ", "pointless"}, func(t *Task, _ string) (Adjustment, bool) {
		if t == nil {
			return Adjustment{}, false
		}
		return change(RemoveTask, t, t.Title, "", fmt.Sprintf("Consider removing %q", t.Title), "the feedback says it is not needed"), true
	}},
	{"a request for new work", []string{"add ", "missing", "need a", "needs a", "should have", "feature", "would like"}, func(_ *Task, text string) (Adjustment, bool) {
		title := truncate(firstSentence(text), 120)
		return Adjustment{Type: NewTask, Description: "Add a task for: " + title, NewValue: &title,
			Reasoning: ptr("the feedback asks for something the plan does not have")}, true
	}},
}

func (b builtin) Analyze(ctx context.Context, req Request) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	text := strings.ToLower(req.Feedback.Text)
	target := b.targetTask(req, text)
	var adjustments []Adjustment
	var matched []string
	for _, r := range builtinRules {
		for _, w := range r.words {
			if !strings.Contains(text, w) {
				continue
			}
			if adj, ok := r.suggest(target, req.Feedback.Text); ok {
				adjustments = append(adjustments, adj)
				matched = append(matched, r.signal)
			}
			break
		}
	}
	if len(adjustments) == 0 {
		adjustments = append(adjustments, Adjustment{Type: General,
			Description: "Review this feedback with the team: " + truncate(firstSentence(req.Feedback.Text), 200),
			Reasoning:   ptr("no rule of the built-in planner matched; a model would give a more specific suggestion")})
	}
	summary := "Rule-based analysis (built-in planner, not an LLM): "
	if len(matched) == 0 {
		summary += "no known signal in the feedback; flagged for review."
	} else {
		summary += fmt.Sprintf("the feedback signals %s", strings.Join(matched, ", "))
		if target != nil {
			summary += fmt.Sprintf(" about %q", target.Title)
		}
		summary += "."
	}
	return Result{Summary: summary, Adjustments: adjustments, Provider: b.Provider(), Model: b.Model()}, nil
}

// targetTask is the task the feedback is about: the one named by the
// feedback, else the task sharing the most words with it.
func (builtin) targetTask(req Request, text string) *Task {
	if id := req.Feedback.TaskID; id != nil {
		for i := range req.Tasks {
			if req.Tasks[i].ID == *id {
				return &req.Tasks[i]
			}
		}
	}
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(text, notLetterOrDigit) {
		if len(w) > 3 {
			words[w] = true
		}
	}
	var best *Task
	bestScore := 0
	for i := range req.Tasks {
		score := 0
		for _, w := range strings.FieldsFunc(strings.ToLower(req.Tasks[i].Title), notLetterOrDigit) {
			if words[w] {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = &req.Tasks[i], score
		}
	}
	return best
}

func change(typ AdjustmentType, t *Task, from, to, description, why string) Adjustment {
	id := t.ID
	adj := Adjustment{Type: typ, TaskID: &id, Description: description, Reasoning: ptr(why)}
	if from != "" {
		adj.OriginalValue = ptr(from)
	}
	if to != "" {
		adj.NewValue = ptr(to)
	}
	return adj
}

func hours(h float64) string { return strconv.FormatFloat(h, 'f', -1, 64) }

func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ".!?\n"); i > 0 {
		s = s[:i]
	}
	return s
}

func notLetterOrDigit(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func ptr(s string) *string { return &s }
