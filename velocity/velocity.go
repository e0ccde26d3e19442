// Package velocity keeps the history of task statuses (StatusHistory, an
// ent hook on every task change) and computes from it how fast a project
// finishes its tasks: tasks completed per ISO week and their cycle times.
//
// Compute aggregates in PostgreSQL (velocity.sql); no history rows are read
// into Go. It does no authorization: callers check that the viewer may see
// the project first.
package velocity

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math"
	"time"
)

// Bounds of the window, in weeks.
const (
	DefaultWeeks = 12
	MaxWeeks     = 104
)

//go:embed velocity.sql
var query string

// Querier runs SQL: a *sql.DB, a *sql.Tx or an *ent.Client all are.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Report is a project's velocity over Weeks, oldest first, the week of
// `now` last.
type Report struct {
	ProjectID int
	Since     time.Time // the oldest week's Monday, 00:00 UTC
	Weeks     []Week
	Completed int
	CycleTime CycleTime // over the whole window
}

// Week is one ISO week (Monday to Sunday, UTC).
type Week struct {
	WeekStart string // its Monday, YYYY-MM-DD
	ISOWeek   string // such as 2026-W49
	Completed int    // tasks moved to DONE in the week, each once
	CycleTime CycleTime
}

// CycleTime is the continuous percentiles of Count cycle times, in hours;
// nil when Count is 0.
type CycleTime struct {
	Count    int
	P50Hours *float64
	P95Hours *float64
}

// Monday returns the start (00:00 UTC) of t's ISO week.
func Monday(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// Compute returns the velocity of project over the `weeks` ISO weeks that
// end with now's. weeks must be from 1 to MaxWeeks.
func Compute(ctx context.Context, db Querier, project, weeks int, now time.Time) (*Report, error) {
	if weeks < 1 || weeks > MaxWeeks {
		return nil, fmt.Errorf("velocity: %d weeks, want 1 to %d", weeks, MaxWeeks)
	}
	last := Monday(now)
	since := last.AddDate(0, 0, -7*(weeks-1))
	until := last.AddDate(0, 0, 7)
	rep := &Report{ProjectID: project, Since: since, Weeks: make([]Week, weeks)}
	index := map[string]int{}
	for i := range rep.Weeks {
		monday := since.AddDate(0, 0, 7*i)
		y, w := monday.ISOWeek()
		start := monday.Format(time.DateOnly)
		rep.Weeks[i] = Week{WeekStart: start, ISOWeek: fmt.Sprintf("%04d-W%02d", y, w)}
		index[start] = i
	}

	rows, err := db.QueryContext(ctx, query, project, since, until)
	if err != nil {
		return nil, fmt.Errorf("velocity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			week     sql.NullString
			n        int
			p50, p95 sql.NullFloat64
		)
		if err := rows.Scan(&week, &n, &p50, &p95); err != nil {
			return nil, fmt.Errorf("velocity: %w", err)
		}
		c := CycleTime{Count: n, P50Hours: hours(p50), P95Hours: hours(p95)}
		if !week.Valid {
			rep.Completed, rep.CycleTime = n, c
			continue
		}
		i, ok := index[week.String]
		if !ok {
			return nil, fmt.Errorf("velocity: week %s is outside the window", week.String)
		}
		rep.Weeks[i].Completed, rep.Weeks[i].CycleTime = n, c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("velocity: %w", err)
	}
	return rep, nil
}

// hours rounds to the microhour (3.6 ms), well below the precision cycle
// times are read at, so that equal durations compare equal.
func hours(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	h := math.Round(v.Float64*1e6) / 1e6
	return &h
}
