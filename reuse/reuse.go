// Package reuse finds earlier analyses a feedback can reuse instead of asking
// the model, and the feedback nearest to one by text.
//
// Feedback says the same thing as another when their normalised texts
// (text.Normalize) are equal, or, for near duplicates, when PostgreSQL's
// pg_trgm finds them similar enough, or, with embeddings, when their
// vectors are near (FindSemantic). An analysis is reused only within the
// project, for feedback about the same task (or both about none), and only
// when it saw the same project state (analysis.StateFingerprint): the same
// prompt would have been sent. Both the worker (which reuses) and the API
// (Feedback.similar) use it; it imports neither.
package reuse

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"

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
	// Semantic, above 0, also reuses the analysis of the feedback whose
	// text's embedding is nearest, if its cosine similarity is at least
	// Semantic (FEEDBACK_REUSE_SEMANTIC; off by default). It needs an
	// embedder: a provider that offers embeddings through langchaingo.
	Semantic float64
}

// Embedder turns a text into a vector: langchaingo's embeddings.Embedder
// is one.
type Embedder interface {
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
}

// Defaults of the settings: exact matches are reused, near and semantic
// ones are not.
const (
	DefaultExact    = true
	DefaultNear     = 0.0
	DefaultSemantic = 0.0
)

// Kinds of reuse, as metrics and logs name them.
const (
	KindExact    = "exact"
	KindNear     = "near"
	KindSemantic = "semantic"
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
	Kind     string  // KindExact, KindNear or KindSemantic
	Score    float64 // pg_trgm similarity of the texts (1 for exact), or the embeddings' cosine similarity
}

// Find looks for an analysis key can reuse under s: an exact match first,
// then, if s allows, the most similar near one. It returns nil when there
// is none. client's context must be allowed to read the project's feedback
// (the worker's is the system's).
func Find(ctx context.Context, client *ent.Client, s Settings, key Key) (*Match, error) {
	if key.Text.Text == "" || key.State == "" {
		return nil, nil
	}
	same := key.same()
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

// same is what an analysis to reuse must share with key: the project, the
// task (or none), the state and the analyzer; and it must be finished.
func (key Key) same() []predicate.Feedback {
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
	return same
}

// MaxSemanticCandidates bounds the analyses FindSemantic compares, newest
// first: those of one project state, task and analyzer are few, as any
// change to a task starts a new state.
const MaxSemanticCandidates = 1000

// FindSemantic looks for the analysis key may reuse whose text's embedding
// (made by model) is nearest to embedding, with a cosine similarity of at
// least threshold; nil when there is none. The vectors are compared here:
// PostgreSQL has no vector type without pgvector.
func FindSemantic(ctx context.Context, client *ent.Client, threshold float64, key Key, embedding []float32, model string) (*Match, error) {
	if threshold <= 0 || len(embedding) == 0 || key.State == "" {
		return nil, nil
	}
	candidates, err := client.Feedback.Query().
		Where(key.same()...).
		Where(feedback.EmbeddingModel(model), feedback.EmbeddingNotNil()).
		Order(ent.Desc(feedback.FieldID)).
		Limit(MaxSemanticCandidates).
		Select(feedback.FieldID, feedback.FieldEmbedding).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("look for an earlier analysis of a text with a similar meaning: %w", err)
	}
	best, bestScore := 0, threshold
	for _, c := range candidates {
		if score := Cosine(embedding, DecodeVector(c.Embedding)); score >= bestScore {
			best, bestScore = c.ID, score
		}
	}
	if best == 0 {
		return nil, nil
	}
	src, err := client.Feedback.Query().
		Where(feedback.ID(best)).
		WithAdjustments(func(q *ent.AdjustmentQuery) { q.Order(ent.Asc(adjustment.FieldPosition)) }).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil // gone meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("load the earlier analysis: %w", err)
	}
	return match(src, KindSemantic, bestScore), nil
}

// EncodeVector is v as stored: little-endian float32s.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// DecodeVector reads a vector EncodeVector stored (a trailing partial
// float is ignored).
func DecodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// Cosine is the cosine similarity of a and b, from -1 to 1; 0 when their
// lengths differ or either is all zeros (they do not compare).
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
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
			similarity(b, s.C(feedback.FieldNormalizedText), text)
			b.WriteString(" >= ").Arg(threshold)
		}))
	}
}

// similarity writes pg_trgm's similarity of column with text (an argument).
func similarity(b *entsql.Builder, column, text string) {
	b.WriteString("similarity(").WriteString(column).Comma().Arg(text).WriteString(")")
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
			similarity(b, s.C(feedback.FieldNormalizedText), text)
			b.WriteString(" DESC")
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
			similarity(b, t.C(feedback.FieldNormalizedText), text)
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

// SimilarInMeaning is Similar by the texts' embeddings: the feedback of fb's
// project whose embedding (made by the same model as fb's) is nearest to
// fb's, by cosine similarity, among the newest MaxSemanticCandidates with
// one. Feedback without an embedding has no such neighbours. Privacy
// applies as in Similar.
func SimilarInMeaning(ctx context.Context, client *ent.Client, fb *ent.Feedback, first int) ([]Scored, error) {
	if first > MaxSimilar {
		return nil, ErrTooMany
	}
	out := []Scored{}
	if first <= 0 {
		return out, nil
	}
	// An event's snapshot carries no embedding: read it.
	self, err := client.Feedback.Query().Where(feedback.ID(fb.ID)).
		Select(feedback.FieldEmbedding, feedback.FieldEmbeddingModel).Only(ctx)
	if err != nil {
		return nil, err
	}
	if self.Embedding == nil || self.EmbeddingModel == nil {
		return out, nil
	}
	mine := DecodeVector(self.Embedding)
	candidates, err := client.Feedback.Query().
		Where(feedback.ProjectID(fb.ProjectID), feedback.IDNEQ(fb.ID),
			feedback.EmbeddingModel(*self.EmbeddingModel), feedback.EmbeddingNotNil()).
		Order(ent.Desc(feedback.FieldID)).
		Limit(MaxSemanticCandidates).
		Select(feedback.FieldID, feedback.FieldEmbedding).
		All(ctx)
	if err != nil {
		return nil, err
	}
	type scored struct {
		id    int
		score float64
	}
	ranked := make([]scored, len(candidates))
	for i, c := range candidates {
		ranked[i] = scored{c.ID, Cosine(mine, DecodeVector(c.Embedding))}
	}
	// Most similar first, then newest (the candidates' order).
	slices.SortStableFunc(ranked, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	ranked = ranked[:min(first, len(ranked))]
	ids := make([]int, len(ranked))
	for i, r := range ranked {
		ids[i] = r.id
	}
	found, err := client.Feedback.Query().Where(feedback.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int]*ent.Feedback, len(found))
	for _, f := range found {
		byID[f.ID] = f
	}
	for _, r := range ranked {
		if f, ok := byID[r.id]; ok { // not deleted meanwhile
			out = append(out, Scored{Feedback: f, Score: r.score})
		}
	}
	return out, nil
}
