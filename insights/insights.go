// Package insights computes what the feedback loop learns about a project:
// how its feedback fares, how long analyses take, why they fail, which
// suggestions people accept (per model) and which tasks come up most.
//
// Everything is aggregated by PostgreSQL in one statement (insights.sql);
// no feedback or suggestion rows are loaded into Go. The package does no
// authorization: callers check that the viewer may see the project first.
package insights

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
)

// Sizes of the top lists.
const (
	TopReasons = 5
	TopTasks   = 10
)

//go:embed insights.sql
var query string

// Querier runs SQL: a *sql.DB, a *sql.Tx or an *ent.Client all are.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Window selects feedback by creation time, half-open: Since <= created_at <
// Until. A nil bound is open; Since at or after Until selects nothing.
// Suggestions count with their feedback, whenever they were decided.
type Window struct {
	Since, Until *time.Time
}

// Report is the insights of one project over one window.
type Report struct {
	ProjectID        int
	Since, Until     *time.Time // the window, as given
	FeedbackCount    int
	FeedbackByStatus []StatusCount // every status, in lifecycle order
	FeedbackPerDay   []Day         // UTC days with feedback, oldest first
	ProcessingTime   Durations     // of all COMPLETED feedback
	Failures         Failures
	Suggestions      Suggestions
	Spend            Usage         // of all COMPLETED feedback
	Models           []Model       // most analyses first
	TopTasks         []TaskMention // most mentioned first, at most TopTasks
}

// StatusCount is how much feedback has one status.
type StatusCount struct {
	Status feedback.Status
	Count  int
}

// Day is the feedback submitted on one UTC day, and how many of it have
// each status now.
type Day struct {
	Date       string // YYYY-MM-DD
	Count      int
	Pending    int
	Processing int
	Completed  int
	Failed     int
}

// Durations are the times from submission to COMPLETED of Count feedback:
// continuous percentiles in milliseconds, to the microsecond; nil when Count
// is 0.
type Durations struct {
	Count int
	P50Ms *float64
	P95Ms *float64
}

// Failures counts FAILED among finished (COMPLETED or FAILED) feedback.
type Failures struct {
	Failed     int
	Finished   int
	Rate       *float64 // Failed / Finished; nil when nothing finished
	TopReasons []Reason // most frequent first, at most TopReasons
}

// Reason is one error text (whitespace collapsed) and how many FAILED
// feedback gave it. Text is nil for failures stored without a reason.
type Reason struct {
	Text  *string
	Count int
}

// Decisions counts suggestions by what people decided about them.
type Decisions struct {
	Total    int
	Applied  int
	Rejected int
	Pending  int // still PROPOSED
}

// AcceptanceRate is Applied / (Applied + Rejected): pending suggestions are
// not counted. Nil while nothing was decided.
func (d Decisions) AcceptanceRate() *float64 {
	return ratio(d.Applied, d.Applied+d.Rejected)
}

// Suggestions counts suggestions overall and per type.
type Suggestions struct {
	Decisions
	ByType []TypeDecisions // types that occur, most suggested first
}

// TypeDecisions counts the suggestions of one type.
type TypeDecisions struct {
	Type adjustment.AdjustmentType
	Decisions
}

// Model is what one provider/model analysed: the COMPLETED feedback it
// produced, what that used and cost, and the fate of its suggestions.
type Model struct {
	Provider       *string
	Model          *string
	Completed      int
	ProcessingTime Durations
	Spend          Usage
	Suggestions    Suggestions
	// Analyses are its analyses recorded in the window, primary and
	// comparison runs (compareAnalyses).
	Analyses Runs
}

// Runs counts a model's analyses: Primary ones (whose suggestions are
// decided on), comparison runs by status, the model's answer times over
// both, and what the comparison runs used and cost.
type Runs struct {
	Primary                                                     int
	ComparisonsCompleted, ComparisonsFailed, ComparisonsPending int
	Latency                                                     Durations
	ComparisonSpend                                             Usage
}

// Usage is the tokens analyses used and what they are estimated to have
// cost, as stored with each analysis.
type Usage struct {
	InputTokens, OutputTokens int
	// EstimatedCost sums the analyses' estimated costs; nil when none has
	// one. Analyses whose tokens have no price (UnpricedAnalyses) add
	// nothing.
	EstimatedCost    *float64
	UnpricedAnalyses int
	// Currency is the price table's: the caller sets it (SetCurrency), the
	// database does not know it.
	Currency string
}

// SetCurrency names the currency of the report's costs.
func (r *Report) SetCurrency(c string) {
	r.Spend.Currency = c
	for i := range r.Models {
		r.Models[i].Spend.Currency = c
		r.Models[i].Analyses.ComparisonSpend.Currency = c
	}
}

// TaskMention is how often a task came up: Feedback submitted on it and
// Suggestions about it.
type TaskMention struct {
	TaskID      int
	Feedback    int
	Suggestions int
}

// Mentions is Feedback + Suggestions, which orders the top tasks.
func (t TaskMention) Mentions() int { return t.Feedback + t.Suggestions }

// lifecycle is the order statuses are reported in.
var lifecycle = []feedback.Status{feedback.StatusPending, feedback.StatusProcessing, feedback.StatusCompleted, feedback.StatusFailed}

// Compute returns the insights of project over w.
func Compute(ctx context.Context, db Querier, project int, w Window) (*Report, error) {
	rows, err := db.QueryContext(ctx, query, project, ceilMicro(w.Since), ceilMicro(w.Until), TopReasons, TopTasks)
	if err != nil {
		return nil, fmt.Errorf("insights: %w", err)
	}
	defer rows.Close()
	var doc []byte
	if rows.Next() {
		err = rows.Scan(&doc)
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("insights: %w", err)
	}
	var raw result
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, fmt.Errorf("insights: decode the aggregates: %w", err)
	}
	rep := raw.report(w)
	rep.ProjectID = project
	return rep, nil
}

// ceilMicro rounds a bound up to PostgreSQL's microsecond precision, so a
// finer bound selects exactly the rows it would at nanosecond precision.
func ceilMicro(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.UTC().Truncate(time.Microsecond)
	if c.Before(*t) {
		c = c.Add(time.Microsecond)
	}
	return &c
}

// result is the JSON document insights.sql returns.
type result struct {
	Days []struct {
		Day    string          `json:"day"` // YYYY-MM-DD
		Status feedback.Status `json:"status"`
		Count  int             `json:"count"`
	} `json:"days"`
	Processing []struct {
		Overall  bool       `json:"overall"`
		Provider *string    `json:"provider"`
		Model    *string    `json:"model"`
		Count    int        `json:"count"`
		P        []*float64 `json:"p"`
		In       int        `json:"input_tokens"`
		Out      int        `json:"output_tokens"`
		Cost     *float64   `json:"cost"`
		Unpriced int        `json:"unpriced"`
	} `json:"processing"`
	Reasons []struct {
		Reason *string `json:"reason"`
		Count  int     `json:"count"`
	} `json:"reasons"`
	Suggestions []struct {
		Provider *string                   `json:"provider"`
		Model    *string                   `json:"model"`
		Type     adjustment.AdjustmentType `json:"type"`
		Status   adjustment.Status         `json:"status"`
		Count    int                       `json:"count"`
	} `json:"suggestions"`
	Runs []struct {
		Provider  string     `json:"provider"`
		Model     string     `json:"model"`
		Primary   int        `json:"primary_count"`
		Completed int        `json:"completed"`
		Failed    int        `json:"failed"`
		Pending   int        `json:"pending"`
		Latencies int        `json:"latency_count"`
		P         []*float64 `json:"p"`
		In        int        `json:"input_tokens"`
		Out       int        `json:"output_tokens"`
		Cost      *float64   `json:"cost"`
		Unpriced  int        `json:"unpriced"`
	} `json:"runs"`
	Tasks []struct {
		ID          int `json:"id"`
		Feedback    int `json:"feedback"`
		Suggestions int `json:"suggestions"`
	} `json:"tasks"`
}

// report shapes the aggregates: sums of a few dozen rows, rates and order.
func (r *result) report(w Window) *Report {
	out := &Report{
		Since: w.Since, Until: w.Until,
		FeedbackPerDay: []Day{},
		Failures:       Failures{TopReasons: []Reason{}},
		Suggestions:    Suggestions{ByType: []TypeDecisions{}},
		Models:         []Model{},
		TopTasks:       []TaskMention{},
	}

	byStatus := map[feedback.Status]int{}
	days := map[string]int{} // index in FeedbackPerDay
	for _, d := range r.Days {
		out.FeedbackCount += d.Count
		byStatus[d.Status] += d.Count
		i, ok := days[d.Day]
		if !ok {
			i = len(out.FeedbackPerDay)
			days[d.Day] = i
			out.FeedbackPerDay = append(out.FeedbackPerDay, Day{Date: d.Day})
		}
		day := &out.FeedbackPerDay[i]
		day.Count += d.Count
		switch d.Status {
		case feedback.StatusCompleted:
			day.Completed += d.Count
		case feedback.StatusFailed:
			day.Failed += d.Count
		case feedback.StatusPending:
			day.Pending += d.Count
		case feedback.StatusProcessing:
			day.Processing += d.Count
		}
	}
	slices.SortFunc(out.FeedbackPerDay, func(a, b Day) int { return strings.Compare(a.Date, b.Date) })
	for _, s := range lifecycle {
		out.FeedbackByStatus = append(out.FeedbackByStatus, StatusCount{Status: s, Count: byStatus[s]})
	}

	failed := byStatus[feedback.StatusFailed]
	finished := failed + byStatus[feedback.StatusCompleted]
	out.Failures.Failed, out.Failures.Finished, out.Failures.Rate = failed, finished, ratio(failed, finished)
	for _, x := range r.Reasons {
		out.Failures.TopReasons = append(out.Failures.TopReasons, Reason{Text: x.Reason, Count: x.Count})
	}

	for _, p := range r.Processing {
		d := durations(p.Count, p.P)
		u := Usage{InputTokens: p.In, OutputTokens: p.Out, EstimatedCost: p.Cost, UnpricedAnalyses: p.Unpriced}
		if p.Overall {
			out.ProcessingTime, out.Spend = d, u
			continue
		}
		out.Models = append(out.Models, Model{
			Provider: p.Provider, Model: p.Model, Completed: p.Count, ProcessingTime: d, Spend: u,
			Suggestions: Suggestions{ByType: []TypeDecisions{}},
		})
	}
	for _, s := range r.Suggestions {
		// Suggestions exist only for COMPLETED feedback, so their model is
		// among the models; the overall counts are the models' sum.
		i := slices.IndexFunc(out.Models, func(m Model) bool {
			return equalNullable(m.Provider, s.Provider) && equalNullable(m.Model, s.Model)
		})
		if i >= 0 {
			out.Models[i].Suggestions.add(s.Type, s.Status, s.Count)
		}
		out.Suggestions.add(s.Type, s.Status, s.Count)
	}
	for _, x := range r.Runs {
		// A model only compared has no COMPLETED feedback: listed too.
		i := slices.IndexFunc(out.Models, func(m Model) bool {
			return equalNullable(m.Provider, &x.Provider) && equalNullable(m.Model, &x.Model)
		})
		if i < 0 {
			i = len(out.Models)
			out.Models = append(out.Models, Model{Provider: &x.Provider, Model: &x.Model,
				ProcessingTime: durations(0, nil), Suggestions: Suggestions{ByType: []TypeDecisions{}}})
		}
		out.Models[i].Analyses = Runs{Primary: x.Primary, ComparisonsCompleted: x.Completed, ComparisonsFailed: x.Failed,
			ComparisonsPending: x.Pending, Latency: durations(x.Latencies, x.P),
			ComparisonSpend: Usage{InputTokens: x.In, OutputTokens: x.Out, EstimatedCost: x.Cost, UnpricedAnalyses: x.Unpriced}}
	}
	out.Suggestions.sort()
	for i := range out.Models {
		out.Models[i].Suggestions.sort()
	}
	slices.SortFunc(out.Models, func(a, b Model) int {
		if a.Completed != b.Completed {
			return b.Completed - a.Completed
		}
		if c := compareNullable(a.Provider, b.Provider); c != 0 {
			return c
		}
		return compareNullable(a.Model, b.Model)
	})

	for _, t := range r.Tasks {
		out.TopTasks = append(out.TopTasks, TaskMention{TaskID: t.ID, Feedback: t.Feedback, Suggestions: t.Suggestions})
	}
	return out
}

// add counts n suggestions of type t with status st.
func (s *Suggestions) add(t adjustment.AdjustmentType, st adjustment.Status, n int) {
	i := slices.IndexFunc(s.ByType, func(d TypeDecisions) bool { return d.Type == t })
	if i < 0 {
		i = len(s.ByType)
		s.ByType = append(s.ByType, TypeDecisions{Type: t})
	}
	s.Decisions.add(st, n)
	s.ByType[i].add(st, n)
}

func (d *Decisions) add(st adjustment.Status, n int) {
	d.Total += n
	switch st {
	case adjustment.StatusApplied:
		d.Applied += n
	case adjustment.StatusRejected:
		d.Rejected += n
	case adjustment.StatusProposed:
		d.Pending += n
	}
}

// sort orders the types most suggested first, then by name.
func (s *Suggestions) sort() {
	slices.SortFunc(s.ByType, func(a, b TypeDecisions) int {
		if a.Total != b.Total {
			return b.Total - a.Total
		}
		return strings.Compare(string(a.Type), string(b.Type))
	})
}

// durations rounds the percentiles to the microsecond, the precision of the
// timestamps they come from.
func durations(n int, p []*float64) Durations {
	d := Durations{Count: n}
	if len(p) == 2 {
		d.P50Ms, d.P95Ms = roundMicro(p[0]), roundMicro(p[1])
	}
	return d
}

func roundMicro(ms *float64) *float64 {
	if ms == nil {
		return nil
	}
	r := math.Round(*ms*1000) / 1000
	return &r
}

func ratio(part, whole int) *float64 {
	if whole == 0 {
		return nil
	}
	r := float64(part) / float64(whole)
	return &r
}

func equalNullable(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// compareNullable orders nil last.
func compareNullable(a, b *string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return strings.Compare(*a, *b)
}
