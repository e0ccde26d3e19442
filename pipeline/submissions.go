package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// Submissions is the record of the feedback submissions made, as the
// feedback rows hold it: a row was submitted by submitted_by_id at
// created_at and retried last by retried_by_id at retried_at. It implements
// ratelimit.SubmissionLog, so the submission budgets can be counted from
// PostgreSQL while Redis cannot keep them. It answers from the transaction
// of an Admission, which holds the locks that make its count final.
//
// A feedback retried more than once within a window counts its latest retry
// only. While Redis is down no job runs, so no feedback fails and can be
// retried again; the retries it forgets were made, and charged in Redis,
// before the outage.
type Submissions struct{ tx *ent.Tx }

// NthLatestByUser returns when the nth latest submission or retry user made
// at or after since was made; ok is false when there were fewer than n.
func (s *Submissions) NthLatestByUser(ctx context.Context, user, n int, since time.Time) (time.Time, bool, error) {
	return s.nth(ctx, `
		(SELECT created_at AS at FROM feedbacks WHERE submitted_by_id = $1 AND created_at >= $2 ORDER BY created_at DESC LIMIT $3)
		UNION ALL
		(SELECT retried_at FROM feedbacks WHERE retried_by_id = $1 AND retried_at >= $2 ORDER BY retried_at DESC LIMIT $3)`,
		user, since, n)
}

// NthLatestInProject is NthLatestByUser for the submissions and retries of
// project's feedback, whoever made them.
func (s *Submissions) NthLatestInProject(ctx context.Context, project, n int, since time.Time) (time.Time, bool, error) {
	return s.nth(ctx, `
		(SELECT created_at AS at FROM feedbacks WHERE project_id = $1 AND created_at >= $2 ORDER BY created_at DESC LIMIT $3)
		UNION ALL
		(SELECT retried_at FROM feedbacks WHERE project_id = $1 AND retried_at >= $2 ORDER BY retried_at DESC LIMIT $3)`,
		project, since, n)
}

// nth returns the nth latest of the times union selects (each side keeps
// its n latest, so that the indexes bound the work).
func (s *Submissions) nth(ctx context.Context, union string, key int, since time.Time, n int) (time.Time, bool, error) {
	if n < 1 {
		return time.Time{}, false, errors.New("pipeline: count submissions: n must be at least 1")
	}
	rows, err := s.tx.QueryContext(ctx, `SELECT at FROM (`+union+`) s ORDER BY at DESC OFFSET $3 - 1 LIMIT 1`, key, since, n)
	if err != nil {
		return time.Time{}, false, err
	}
	defer rows.Close()
	var at sql.NullTime
	if rows.Next() {
		if err := rows.Scan(&at); err != nil {
			return time.Time{}, false, err
		}
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, false, err
	}
	return at.Time, at.Valid, nil
}

// admit runs admission, if any, in tx for a submission by the viewer of ctx
// to project, after locking the viewer's and the project's submissions until
// tx ends. The locks are taken in one order (user, then project) by every
// submission, so two never wait on each other. The count comes in later
// statements, whose snapshot (READ COMMITTED) includes every submission
// committed before the locks were granted.
func admit(ctx context.Context, tx *ent.Tx, admission Admission, project int) error {
	if admission == nil {
		return nil
	}
	user := 0
	if v := viewer.FromContext(ctx); v != nil {
		user = v.UserID
	}
	// IDs are 64-bit, so each lock's key is a 64-bit hash of what it
	// guards; another lock of the same key (as unlikely as 1 in 2^64) would
	// only make the two wait on each other.
	for _, guarded := range []string{"feedbackloop submissions by user " + strconv.Itoa(user), "feedbackloop submissions to project " + strconv.Itoa(project)} {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, guarded); err != nil {
			return err
		}
	}
	return admission(ctx, &Submissions{tx: tx}, user, project)
}
