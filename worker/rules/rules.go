// Package rules is the built-in planner: a few deterministic keyword rules,
// not an LLM. It lets the whole flow run without a model or an API key.
package rules

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/internal/text"
	"github.com/feedbackloop/feedbackloop/suggestion"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// New returns the built-in planner. It says what it is in every summary, and
// its answers obey the rules analysis.ParseAnswer enforces.
func New() analysis.Analyzer { return builtin{} }

type builtin struct{}

func (builtin) Provider() string { return "builtin" }
func (builtin) Model() string    { return "rules-v1" }

// generalConfidence is the built-in planner's confidence in its advice to
// review a feedback no rule acted on.
const generalConfidence = 0.3

const builtinSummaryPrefix = "Rule-based analysis (built-in planner, not an LLM): "

// rule matches feedback by key phrases and suggests one change. suggest gets
// the task concerned (nil if none is known), the feedback and the end of the
// matched phrase in it.
type rule struct {
	signal string // what the rule looks for, named in the summary
	// confidence is how often a match means the change is wanted, a
	// guess by rule: an explicit "urgent" is surer than a "drop" that may
	// be about anything.
	confidence float64
	phrases    []string
	suggest    func(t *analysis.Task, said string, end int) (analysis.Adjustment, bool)
}

// builtinRules are tried in order, their confidences not increasing (the
// order of the suggestions); the first rule of a kind wins for a task
// (blocked before done: a feedback saying both is more likely a blocker).
func builtinRules() []rule {
	return []rule{
		{"urgency", 0.75, []string{"urgent", "urgently", "asap", "critical", "blocker", "immediately", "right away", "top priority"}, func(t *analysis.Task, _ string, _ int) (analysis.Adjustment, bool) {
			if t == nil || t.Priority >= suggestion.MaxPriority {
				return analysis.Adjustment{}, false
			}
			to := min(suggestion.MaxPriority, max(0, t.Priority)+2)
			return change(adjustment.AdjustmentTypeTaskPriority, t, strconv.Itoa(t.Priority), strconv.Itoa(to),
				fmt.Sprintf("Raise the priority of %q to %d", t.Title, to), "the feedback calls it urgent"), true
		}},
		{"a blocker", 0.7, []string{"blocked", "stuck", "waiting on", "waiting for", "can't proceed", "cannot proceed"}, func(t *analysis.Task, _ string, _ int) (analysis.Adjustment, bool) {
			if t == nil || t.Status == "BLOCKED" || t.Status == "DONE" {
				return analysis.Adjustment{}, false
			}
			return change(adjustment.AdjustmentTypeTaskStatus, t, t.Status, "BLOCKED", fmt.Sprintf("Mark %q as blocked", t.Title), "the feedback reports it cannot move forward"), true
		}},
		{"completion", 0.6, []string{"done", "finished", "works now", "completed", "shipped", "fixed"}, func(t *analysis.Task, _ string, _ int) (analysis.Adjustment, bool) {
			if t == nil || t.Status == "DONE" {
				return analysis.Adjustment{}, false
			}
			return change(adjustment.AdjustmentTypeTaskStatus, t, t.Status, "DONE", fmt.Sprintf("Mark %q as done", t.Title), "the feedback says it is finished"), true
		}},
		{"a delay", 0.6, []string{"slow", "takes longer", "taking longer", "underestimated", "more time", "too long", "behind schedule"}, func(t *analysis.Task, _ string, _ int) (analysis.Adjustment, bool) {
			if t == nil || (t.EstimatedHours != nil && *t.EstimatedHours >= suggestion.MaxEstimateHours) {
				return analysis.Adjustment{}, false
			}
			// ×1.5, or +4h when there is no estimate to scale; never beyond
			// the largest estimate a suggestion may carry.
			from, to := "none", 4.0
			if h := t.EstimatedHours; h != nil && *h > 0 {
				from, to = hours(*h), math.Round(*h*15)/10
			} else if h != nil {
				from, to = hours(*h), max(0, *h)+4
			}
			to = min(to, suggestion.MaxEstimateHours)
			return change(adjustment.AdjustmentTypeTaskEstimate, t, from, hours(to), fmt.Sprintf("Re-estimate %q at %sh", t.Title, hours(to)), "the feedback says it takes longer than planned"), true
		}},
		{"an unclear description", 0.55, []string{"unclear", "confusing", "confused", "vague", "don't understand", "ambiguous"}, func(t *analysis.Task, said string, _ int) (analysis.Adjustment, bool) {
			if t == nil {
				return analysis.Adjustment{}, false
			}
			clarified := strings.TrimSpace(t.Description + "\n\nClarify: " + firstSentence(said))
			return change(adjustment.AdjustmentTypeTaskDescription, t, t.Description, clarified,
				fmt.Sprintf("Clarify the description of %q", t.Title), "the feedback finds it unclear"), true
		}},
		{"something not needed", 0.5, []string{"remove", "unnecessary", "not needed", "no longer needed", "drop", "pointless", "obsolete"}, func(t *analysis.Task, _ string, _ int) (analysis.Adjustment, bool) {
			if t == nil {
				return analysis.Adjustment{}, false
			}
			return change(adjustment.AdjustmentTypeRemoveTask, t, t.Title, "", fmt.Sprintf("Consider removing %q", t.Title), "the feedback says it is not needed"), true
		}},
		{"a request for new work", 0.45, []string{"add", "missing", "need a", "need an", "needs a", "needs an", "should have", "feature", "would like"}, func(_ *analysis.Task, said string, end int) (analysis.Adjustment, bool) {
			title := newTaskTitle(said, end)
			if title == "" {
				return analysis.Adjustment{}, false
			}
			return analysis.Adjustment{Type: adjustment.AdjustmentTypeNewTask, Description: text.Truncate("Add a task: "+title, analysis.MaxText), NewValue: &title,
				Reasoning: ptr("the feedback asks for something the plan does not have")}, true
		}},
	}
}

func (b builtin) Analyze(ctx context.Context, req analysis.Request) (analysis.Result, error) {
	if err := ctx.Err(); err != nil {
		return analysis.Result{}, err
	}
	said := req.Feedback.Text
	lower := strings.ToLower(said)
	if len(lower) != len(said) {
		said = lower // offsets must agree; rare case changes (such as İ) lose their capitals
	}
	target := targetTask(req, lower)
	var adjustments []analysis.Adjustment
	var matched, unplaced []string
	for _, r := range builtinRules() {
		end := -1
		for _, p := range r.phrases {
			if end = findPhrase(lower, p); end >= 0 {
				break
			}
		}
		if end < 0 {
			continue
		}
		adj, ok := r.suggest(target, said, end)
		switch {
		case !ok && target == nil:
			unplaced = append(unplaced, r.signal)
		case !ok:
			// Nothing to change: the task already is that way.
		case slices.ContainsFunc(adjustments, func(a analysis.Adjustment) bool { return a.Type == adj.Type }):
			// One change of each kind: blocked and done in one feedback is
			// not two status changes.
		default:
			adj.Confidence = ptr(learned(r.confidence, adj.Type, req.Record))
			adjustments = append(adjustments, adj)
			matched = append(matched, r.signal)
		}
	}
	// Most likely wanted first: kinds the team keeps rejecting sink.
	slices.SortStableFunc(adjustments, func(a, b analysis.Adjustment) int { return cmp.Compare(*b.Confidence, *a.Confidence) })
	if len(adjustments) == 0 {
		why := "no rule of the built-in planner matched; a model would give a more specific suggestion"
		if len(unplaced) > 0 {
			why = fmt.Sprintf("the feedback signals %s but the built-in planner could not tell which task it concerns", strings.Join(unplaced, ", "))
		}
		adjustments = append(adjustments, analysis.Adjustment{Type: adjustment.AdjustmentTypeGeneral,
			Description: text.Truncate("Review this feedback with the team: "+orDefault(firstSentence(req.Feedback.Text), "(no text)"), analysis.MaxText),
			Reasoning:   ptr(why), Confidence: ptr(learned(generalConfidence, adjustment.AdjustmentTypeGeneral, req.Record))})
	}
	summary := builtinSummaryPrefix
	if len(matched) == 0 {
		summary += "no signal the rules act on; flagged for review."
	} else {
		summary += "the feedback signals " + strings.Join(matched, ", ")
		if target != nil {
			summary += fmt.Sprintf(" about %q", target.Title)
		}
		summary += "."
	}
	// No model, no tokens: a zero usage, not an unknown one.
	return analysis.Result{Summary: text.Truncate(summary, analysis.MaxSummary), Adjustments: adjustments, Provider: b.Provider(), Model: b.Model(),
		Usage: &analysis.Usage{}}, nil
}

// targetTask is the task the feedback is about: the one it names, else the
// task whose title shares the most words (analysis.Words) with it, first wins.
func targetTask(req analysis.Request, lower string) *analysis.Task {
	if id := req.Feedback.TaskID; id != nil {
		for i := range req.Tasks {
			if req.Tasks[i].ID == *id {
				return &req.Tasks[i]
			}
		}
	}
	words := map[string]bool{}
	for _, w := range analysis.Words(lower) {
		words[w] = true
	}
	var best *analysis.Task
	bestScore := 0
	for i := range req.Tasks {
		score := 0
		for _, w := range analysis.Words(req.Tasks[i].Title) {
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

// findPhrase returns the end of the first occurrence of phrase in lower that
// stands as whole words and is not negated ("not urgent"), or -1.
func findPhrase(lower, phrase string) int {
	for from := 0; from < len(lower); {
		i := strings.Index(lower[from:], phrase)
		if i < 0 {
			return -1
		}
		start, end := from+i, from+i+len(phrase)
		from = end
		if !boundary(lower, start) || !boundary(lower, end) || negated(lower[:start]) {
			continue
		}
		return end
	}
	return -1
}

// boundary reports whether position i of s is not inside a word.
func boundary(s string, i int) bool {
	if i <= 0 || i >= len(s) {
		return true
	}
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[i:])
	return notLetterOrDigit(before) || notLetterOrDigit(after)
}

// negated reports whether one of the two words before a match negates it.
func negated(before string) bool {
	words := strings.Fields(before)
	for i := max(0, len(words)-2); i < len(words); i++ {
		w := strings.TrimFunc(words[i], notLetterOrDigit)
		if w == "not" || w == "no" || w == "never" || w == "without" || strings.HasSuffix(w, "n't") {
			return true
		}
	}
	return false
}

// newTaskTitle is what follows the matched phrase in its sentence ("please
// add dark mode" gives "Dark mode"), else the whole first sentence.
func newTaskTitle(said string, end int) string {
	rest := said[end:]
	if i := strings.IndexAny(rest, ".!?\n"); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.TrimLeftFunc(rest, notLetterOrDigit)
	for _, article := range []string{"a ", "an ", "the ", "some ", "for ", "to "} {
		if len(rest) >= len(article) && strings.EqualFold(rest[:len(article)], article) {
			rest = rest[len(article):]
			break
		}
	}
	rest = strings.TrimSpace(rest)
	if utf8.RuneCountInString(rest) < 3 {
		rest = firstSentence(said)
	}
	r, size := utf8.DecodeRuneInString(rest)
	if size == 0 {
		return ""
	}
	return text.Truncate(string(unicode.ToUpper(r))+rest[size:], 120)
}

func change(typ adjustment.AdjustmentType, t *analysis.Task, from, to, description, why string) analysis.Adjustment {
	id := t.ID
	adj := analysis.Adjustment{Type: typ, TaskID: &id, Description: text.Truncate(description, analysis.MaxText), Reasoning: ptr(why)}
	// The original value is claimed only whole: the pipeline stores what the
	// task holds, and a value cut to fit would read as a different claim.
	if from = strings.TrimSpace(from); from != "" && utf8.RuneCountInString(from) <= analysis.MaxText {
		adj.OriginalValue = &from
	}
	if to = strings.TrimSpace(to); to != "" {
		adj.NewValue = ptr(text.Truncate(to, analysis.MaxText))
	}
	return adj
}

// learned is a rule's confidence for a suggestion of kind t, lowered by the
// share of the project's recent decisions on that kind that were rejections
// (analysis.KindRecord.RejectionRate): a kind the team keeps rejecting is
// down-ranked, never dropped. Rounded to two decimals.
func learned(confidence float64, t adjustment.AdjustmentType, record []analysis.KindRecord) float64 {
	for _, r := range record {
		if r.Type == t {
			confidence *= 1 - r.RejectionRate()
		}
	}
	return max(0.01, math.Round(confidence*100)/100)
}

func hours(h float64) string { return strconv.FormatFloat(h, 'f', -1, 64) }

func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ".!?\n"); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func notLetterOrDigit(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func ptr[T any](v T) *T { return &v }
