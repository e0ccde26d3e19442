// Package reuse finds earlier analyses a feedback can reuse instead of asking
// the model, and the feedback nearest to one by text.
//
// Feedback says the same thing as another when their normalised texts
// (text.Normalize) are equal, or, for near duplicates, when PostgreSQL's
// pg_trgm finds them similar enough. An analysis is reused only within the
// project, for feedback about the same task (or both about none), and only
// when it saw the same project state (analysis.StateFingerprint): the same
// prompt would have been sent. Both the worker (which reuses) and the API
// (Feedback.similar) use it; it imports neither.
package reuse

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/predicate"
	"github.com/feedbackloop/feedbackloop/internal/text"
)

// Settings say which earlier analyses may be reused.
type Settings struct {
	// Exact reuses the analysis of feedback whose normalised text is the
	// same (FEEDBACK_REUSE; on by default).
	Exact bool
	// Near, above 0, also reuses the analysis of the most similar
	// feedback whose pg_trgm similarity is at least Near
	// (FEEDBACK_REUSE_NEAR; 0, off, by default).
	Near float64
}

// Defaults of the settings: exact matches are reused, near ones are not.
const (
	DefaultExact = true
	DefaultNear  = 0.0
)

// Kinds of reuse, as metrics and logs name them.
const (
	KindExact = "exact"
	KindNear  = "near"
)

// Normalized is a text in its normalised form and that form's hash: what
// is stored with feedback for exact lookups.
type Normalized struct {
	Text, Hash string
}

// Normalize returns s normalised (text.Normalize) with its hex SHA-256.
func Normalize(s string) Normalized {
	n := text.Normalize(s)
	sum := sha256.Sum256([]byte(n))
	return Normalized{Text: n, Hash: hex.EncodeToString(sum[:])}
}

// Key is what a feedback's analysis would be looked up by.
type Key struct {
	FeedbackID int // left out of the candidates
	ProjectID  int
	TaskID     *int
	Text       Normalized
	State      string // analysis.StateFingerprint of the request
	// Provider and Model are the analyzer's: only analyses it made are
	// reused, never a fallback provider's answer (it stood in for it) nor
	// an earlier model's. Empty, any analyzer's will do.
	Provider, Model string
}

// Match is an earlier analysis to reuse.
type Match struct {
	// Source is the COMPLETED feedback whose analysis is reused, with its
	// adjustments in order.
	Source *ent.Feedback
	// Original is the feedback whose analysis it first was: Source, or
	// the feedback Source reused in turn.
	Original int
	Kind     string  // KindExact or KindNear
	Score    float64 // pg_trgm similarity of the texts (1 for exact)
}

// Find looks for an analysis key can reuse under s: an exact match first,
// then, if s allows, the most similar near one. It returns nil when there
// is none. client's context must be allowed to read the project's feedback
// (the worker's is the system's).
func Find(ctx context.Context, client *ent.Client, s Settings, key Key) (*Match, error) {
	if key.Text.Text == "" || key.State == "" {
		return nil, nil
	}
	same := []predicate.Feedback{
		feedback.ProjectID(key.ProjectID),
		feedback.IDNEQ(key.FeedbackID),
		feedback.StatusEQ(feedback.StatusCompleted),
		feedback.StateFingerprint(key.State),
	}
	if key.Provider != "" {
		same = append(same, feedback.Provider(key.Provider), feedback.Model(key.Model), feedback.FallbackReasonIsNil())
	}
	if key.TaskID == nil {
		same = append(same, feedback.TaskIDIsNil())
	} else {
		same = append(same, feedback.TaskID(*key.TaskID))
	}
	withAdjustments := func(q *ent.AdjustmentQuery) { q.Order(ent.Asc(adjustment.FieldPosition)) }
	if s.Exact {
		src, err := client.Feedback.Query().
			Where(same...).
			Where(feedback.NormalizedTextHash(key.Text.Hash), feedback.NormalizedText(key.Text.Text)).
			Order(ent.Asc(feedback.FieldID)).
			WithAdjustments(withAdjustments).
			First(ctx)
		switch {
		case err == nil:
			return match(src, KindExact, 1), nil
		case !ent.IsNotFound(err):
			return nil, fmt.Errorf("look for an earlier analysis of the same text: %w", err)
		}
	}
	if s.Near <= 0 {
		return nil, nil
	}
	src, err := client.Feedback.Query().
		Where(same...).
		Where(SimilarAtLeast(key.Text.Text, s.Near)).
		Order(BySimilarity(key.Text.Text), ent.Asc(feedback.FieldID)).
		WithAdjustments(withAdjustments).
		First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for an earlier analysis of a similar text: %w", err)
	}
	scores, err := Scores(ctx, client, key.Text.Text, []int{src.ID})
	if err != nil {
		return nil, err
	}
	return match(src, KindNear, scores[src.ID]), nil
}

func match(src *ent.Feedback, kind string, score float64) *Match {
	original := src.ID
	if src.ReusedFromID != nil {
		original = *src.ReusedFromID
	}
	return &Match{Source: src, Original: original, Kind: kind, Score: score}
}

// SimilarAtLeast holds for feedback whose normalised text has a pg_trgm
// similarity of at least threshold with text (text is a query argument).
func SimilarAtLeast(text string, threshold float64) predicate.Feedback {
	return func(s *entsql.Selector) {
		s.Where(entsql.P(func(b *entsql.Builder) {
			b.WriteString("similarity(").WriteString(s.C(feedback.FieldNormalizedText)).Comma().Arg(text).
				WriteString(") >= ").Arg(threshold)
		}))
	}
}

// Trigram holds for feedback whose normalised text is similar to text by
// pg_trgm's % operator: a similarity of at least pg_trgm.similarity_threshold
// (0.3 unless the server is configured otherwise). The GIN trigram index
// answers it.
func Trigram(text string) predicate.Feedback {
	return func(s *entsql.Selector) {
		s.Where(entsql.P(func(b *entsql.Builder) {
			b.WriteString(s.C(feedback.FieldNormalizedText)).WriteString(" % ").Arg(text)
		}))
	}
}

// BySimilarity orders feedback most similar to text first.
func BySimilarity(text string) feedback.OrderOption {
	return func(s *entsql.Selector) {
		// ExprFunc, not OrderExprFunc: that one drops the arguments.
		s.OrderExpr(entsql.ExprFunc(func(b *entsql.Builder) {
			b.WriteString("similarity(").WriteString(s.C(feedback.FieldNormalizedText)).Comma().Arg(text).WriteString(") DESC")
		}))
	}
}

// Querier runs SQL: an *ent.Client is one.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Scores returns the pg_trgm similarity of text with the normalised text of
// each of the feedback ids (a feedback without one is left out). It reads
// past ent's privacy filters: pass only IDs the caller has read through
// ent.
func Scores(ctx context.Context, db Querier, text string, ids []int) (map[int]float64, error) {
	out := make(map[int]float64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	t := entsql.Table(feedback.Table)
	sel := entsql.Dialect("postgres").Select(t.C(feedback.FieldID)).
		AppendSelectExprAs(entsql.ExprFunc(func(b *entsql.Builder) {
			b.WriteString("similarity(").WriteString(t.C(feedback.FieldNormalizedText)).Comma().Arg(text).WriteString(")")
		}), "score").
		From(t).
		Where(entsql.And(entsql.InInts(t.C(feedback.FieldID), ids...), entsql.NotNull(t.C(feedback.FieldNormalizedText))))
	query, args := sel.Query()
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("score similar feedback: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var score float64
		if err := rows.Scan(&id, &score); err != nil {
			return nil, fmt.Errorf("score similar feedback: %w", err)
		}
		out[id] = score
	}
	return out, rows.Err()
}

// MaxSimilar bounds Similar's first.
const MaxSimilar = 50

// ErrTooMany: Similar was asked for more than MaxSimilar.
var ErrTooMany = errors.New("too many similar feedback asked for")

// Scored is a feedback and its similarity with another.
type Scored struct {
	Feedback *ent.Feedback
	Score    float64
}

// Similar returns at most first feedback of fb's project nearest to fb by
// text, most similar first (then newest), each with its pg_trgm similarity
// (0 to 1; 1 is the same normalised text), leaving fb out. Only feedback
// similar by pg_trgm's % operator is listed (see Trigram). The feedback are
// read with ctx, so privacy applies: a caller sees only what it may see.
func Similar(ctx context.Context, client *ent.Client, fb *ent.Feedback, first int) ([]Scored, error) {
	if first > MaxSimilar {
		return nil, ErrTooMany
	}
	out := []Scored{}
	if first <= 0 {
		return out, nil
	}
	norm := Normalize(fb.FeedbackText).Text
	if fb.NormalizedText != nil {
		norm = *fb.NormalizedText
	}
	if norm == "" {
		return out, nil
	}
	near, err := client.Feedback.Query().
		Where(feedback.ProjectID(fb.ProjectID), feedback.IDNEQ(fb.ID), Trigram(norm)).
		Order(BySimilarity(norm), ent.Desc(feedback.FieldID)).
		Limit(first).
		All(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int, len(near))
	for i, n := range near {
		ids[i] = n.ID
	}
	scores, err := Scores(ctx, client, norm, ids)
	if err != nil {
		return nil, err
	}
	for _, n := range near {
		out = append(out, Scored{Feedback: n, Score: scores[n.ID]})
	}
	return out, nil
}
