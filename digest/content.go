// Package digest is members' email digests of their projects: what a
// digest holds (Build, from the database), how it reads (Render: text and
// HTML, user text escaped), how it is sent (SMTP, Mailer) and the worker's
// scheduler that finds the members whose digest is due and sends each one
// once (Scheduler).
package digest

import (
	"context"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/comment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	entuser "github.com/feedbackloop/feedbackloop/ent/user"
	"github.com/feedbackloop/feedbackloop/internal/text"
)

// listed bounds each list of a digest; the counts say how many there are.
const listed = 10

// snippet bounds the user text a digest quotes (runes).
const snippet = 200

// Digest is what one member is told about one project for one period.
type Digest struct {
	Project      string
	Frequency    string // DAILY or WEEKLY
	Since, Until time.Time

	NewFeedback      []Item // newest first
	NewFeedbackCount int
	Completed        []Item // analyses completed in the period: their summaries
	CompletedCount   int
	FailedCount      int
	Decisions        []Decision // newest first
	DecisionCount    int
	Open             []Item // PROPOSED suggestions, best score first
	OpenCount        int
	Mentions         []Item // comments of the period that mention the member, newest first
	MentionCount     int
}

// Item is one line of a list: a text cut to snippet runes.
type Item struct {
	ID   int
	Text string
}

// Decision is a suggestion applied or rejected in the period.
type Decision struct {
	Item
	Status string // APPLIED or REJECTED
}

// Empty reports whether nothing happened in the period: such a digest is
// not sent (suggestions left open alone are no news).
func (d *Digest) Empty() bool {
	return d.NewFeedbackCount == 0 && d.CompletedCount == 0 && d.FailedCount == 0 && d.DecisionCount == 0 && d.MentionCount == 0
}

// Build reads project's digest for (since, until] for the member who is
// user as the system: the scheduler checks membership, not the privacy
// layer. Mentions lists the period's comments that mention user (and still
// do). Decisions are the
// suggestions applied or rejected in the period that still stand (a
// revert clears its decision: the suggestion is open again and listed so).
func Build(ctx context.Context, client *ent.Client, projectID, user int, frequency string, since, until time.Time) (*Digest, error) {
	ctx = access.SystemContext(ctx)
	p, err := client.Project.Get(ctx, projectID)
	if err != nil {
		return nil, err
	}
	d := &Digest{Project: p.Name, Frequency: frequency, Since: since, Until: until}
	inProject := feedback.ProjectID(projectID)

	created := client.Feedback.Query().Where(inProject, feedback.CreatedAtGT(since), feedback.CreatedAtLTE(until))
	if d.NewFeedbackCount, err = created.Clone().Count(ctx); err != nil {
		return nil, err
	}
	fbs, err := created.Order(ent.Desc(feedback.FieldCreatedAt), ent.Desc(feedback.FieldID)).Limit(listed).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range fbs {
		d.NewFeedback = append(d.NewFeedback, Item{f.ID, text.Truncate(f.FeedbackText, snippet)})
	}

	processed := func(s feedback.Status) *ent.FeedbackQuery {
		return client.Feedback.Query().Where(inProject, feedback.StatusEQ(s), feedback.ProcessedAtGT(since), feedback.ProcessedAtLTE(until))
	}
	if d.FailedCount, err = processed(feedback.StatusFailed).Count(ctx); err != nil {
		return nil, err
	}
	completed := processed(feedback.StatusCompleted)
	if d.CompletedCount, err = completed.Clone().Count(ctx); err != nil {
		return nil, err
	}
	done, err := completed.Order(ent.Desc(feedback.FieldProcessedAt), ent.Desc(feedback.FieldID)).Limit(listed).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range done {
		s := "(no summary)"
		if f.Summary != nil {
			s = *f.Summary
		}
		d.Completed = append(d.Completed, Item{f.ID, text.Truncate(s, snippet)})
	}

	ofProject := adjustment.HasFeedbackWith(inProject)
	decided := client.Adjustment.Query().Where(ofProject, adjustment.StatusIn(adjustment.StatusApplied, adjustment.StatusRejected),
		adjustment.DecidedAtGT(since), adjustment.DecidedAtLTE(until))
	if d.DecisionCount, err = decided.Clone().Count(ctx); err != nil {
		return nil, err
	}
	as, err := decided.Order(ent.Desc(adjustment.FieldDecidedAt), ent.Desc(adjustment.FieldID)).Limit(listed).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		d.Decisions = append(d.Decisions, Decision{Item{a.ID, text.Truncate(a.Description, snippet)}, string(a.Status)})
	}

	open := client.Adjustment.Query().Where(ofProject, adjustment.StatusEQ(adjustment.StatusProposed))
	if d.OpenCount, err = open.Clone().Count(ctx); err != nil {
		return nil, err
	}
	as, err = open.Order(ent.Desc(adjustment.FieldScore), ent.Asc(adjustment.FieldID)).Limit(listed).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		d.Open = append(d.Open, Item{a.ID, text.Truncate(a.Description, snippet)})
	}

	mentions := client.Comment.Query().Where(comment.ProjectID(projectID), comment.CreatedAtGT(since), comment.CreatedAtLTE(until),
		comment.HasMentionsWith(entuser.ID(user)))
	if d.MentionCount, err = mentions.Clone().Count(ctx); err != nil {
		return nil, err
	}
	cs, err := mentions.Order(ent.Desc(comment.FieldCreatedAt), ent.Desc(comment.FieldID)).Limit(listed).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		d.Mentions = append(d.Mentions, Item{c.ID, text.Truncate(c.Body, snippet)})
	}
	return d, nil
}
