package lateral_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/internal/lateral"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "lateral", &dbTemplate) }

// Three parents: 1 has children ranked 1..20 (ranks repeat, so the ID
// breaks ties), 2 has three, 3 has none; kind alternates a and b.
func setup(t *testing.T) *sql.DB {
	t.Helper()
	db, _ := dbTemplate.Open(t)
	_, err := db.Exec(`
		CREATE TABLE kids (id bigint PRIMARY KEY, parent bigint NOT NULL, rank int NOT NULL, kind text NOT NULL);
		CREATE INDEX kids_parent_rank ON kids (parent, rank);
		INSERT INTO kids SELECT g, 1, g % 7, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 20) g;
		INSERT INTO kids VALUES (101, 2, 3, 'a'), (102, 2, 1, 'b'), (103, 2, 2, 'a');`)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// page is what the modifier must return for one parent: the same query
// for that parent alone, with ORDER BY and LIMIT, as a plain statement.
func page(t *testing.T, db *sql.DB, parent int, where string, args []any, order string, limit int) []string {
	t.Helper()
	q := fmt.Sprintf(`SELECT id, parent, rank FROM kids WHERE parent = %d AND %s ORDER BY %s LIMIT %d`, parent, where, order, limit)
	return rows(t, db, q, args...)
}

func rows(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rs, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var id, parent, rank int
		if err := rs.Scan(&id, &parent, &rank); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d:%d:%d", parent, id, rank))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// kids selects the children's columns as ent's generated queries do.
func kids() *entsql.Selector {
	s := entsql.Dialect(dialect.Postgres).Select().From(entsql.Table("kids"))
	return s.Select(s.Columns("id", "parent", "rank")...)
}

func TestPerParentReadsEachParentsPage(t *testing.T) {
	db := setup(t)
	for _, tc := range []struct {
		name    string
		parents []int
		desc    bool
		limit   int
	}{
		{"ascending", []int{1, 2, 3}, false, 4},
		{"descending", []int{3, 2, 1}, true, 6},
		{"one parent", []int{2}, false, 2},
		{"no parents", nil, false, 3},
		{"more than there are", []int{1, 2}, true, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := "ASC"
			if tc.desc {
				dir = "DESC"
			}
			// A filter with an argument before and a subquery with one
			// after the IDs' parameter, as privacy rules add them.
			s := kids()
			s.Where(entsql.EQ(s.C("kind"), "a"))
			s.Where(entsql.In(s.C("parent"), entsql.Select("parent").From(entsql.Table("kids")).Where(entsql.GT("rank", -1))))
			// One that reads the selector when rendered, as entgql's cursors do.
			s.Where(entsql.P(func(b *entsql.Builder) { b.Join(entsql.GT(s.C("id"), -2)) }))
			s.OrderExpr(entsql.Expr(fmt.Sprintf(`"kids"."rank" %s, "kids"."id" %s`, dir, dir))).Limit(tc.limit)
			order := entsql.ExprFunc(func(b *entsql.Builder) {
				b.Ident("rank").WriteString(" " + dir).Comma().Ident("id").WriteString(" " + dir)
			})
			lateral.PerParent("parent", tc.parents, order)(s)
			query, args := s.Query()
			if !strings.Contains(query, "CROSS JOIN LATERAL") || strings.Contains(query, "ROW_NUMBER") {
				t.Errorf("not a lateral page: %s", query)
			}
			got := rows(t, db, query, args...)

			// Grouped by parent in ascending order, each in page order.
			var want []string
			sorted := slices.Clone(tc.parents)
			slices.Sort(sorted)
			for _, p := range sorted {
				want = append(want, page(t, db, p, `kind = $1 AND parent IN (SELECT parent FROM kids WHERE rank > -1)`, []any{"a"},
					fmt.Sprintf("rank %s, id %s", dir, dir), tc.limit)...)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got  %v\nwant %v\n%s %v", got, want, query, args)
			}
		})
	}
}

// The plan reads each parent's page from the index, not every child.
func TestPerParentUsesTheIndexRange(t *testing.T) {
	db := setup(t)
	if _, err := db.Exec(`INSERT INTO kids SELECT 1000 + g, 4, g % 50, 'a' FROM generate_series(1, 20000) g; ANALYZE kids`); err != nil {
		t.Fatal(err)
	}
	s := kids()
	s.OrderExpr(entsql.Expr(`"kids"."rank", "kids"."id"`)).Limit(5)
	lateral.PerParent("parent", []int{1, 4}, entsql.Expr(`"rank", "id"`))(s)
	query, args := s.Query()
	var plan strings.Builder
	rs, err := db.QueryContext(context.Background(), "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var line string
		if err := rs.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	// 20,000 children of parent 4; the page reads those of rank 0 at most
	// (400), never all of them.
	if !strings.Contains(plan.String(), "kids_parent_rank") {
		t.Errorf("the page does not use the (parent, rank) index:\n%s", plan.String())
	}
	for _, line := range strings.Split(plan.String(), "\n") {
		if strings.Contains(line, "kids_parent_rank") && strings.Contains(line, "rows=20000") {
			t.Errorf("the page reads every child:\n%s", plan.String())
		}
	}
}

func TestPerParentNeedsPostgres(t *testing.T) {
	s := entsql.Dialect(dialect.SQLite).Select("id").From(entsql.Table("kids")).Limit(1)
	lateral.PerParent("parent", []int{1}, entsql.Expr(`"id"`))(s)
	if _, _ = s.Query(); s.Err() == nil {
		t.Error("no error for another dialect")
	}
}

func TestCountPerParentCountsEachParent(t *testing.T) {
	db := setup(t)
	s := kids()
	s.Where(entsql.EQ(s.C("kind"), "a"))
	s.Where(entsql.In(s.C("parent"), entsql.Select("parent").From(entsql.Table("kids")).Where(entsql.GT("rank", -1))))
	s.Where(entsql.P(func(b *entsql.Builder) { b.Join(entsql.GT(s.C("id"), -2)) })) // renders late, as cursors do
	s.OrderExpr(entsql.Expr(`"kids"."id"`)).Limit(1)                                // ignored: a count has neither
	query, args, err := lateral.CountPerParent(s, "parent", []int{1, 2, 3, 9})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(query, "CROSS JOIN LATERAL") || strings.Contains(query, "GROUP BY") {
		t.Errorf("not a per-parent count: %s", query)
	}
	rs, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	got := map[int]int{}
	for rs.Next() {
		var parent, n int
		if err := rs.Scan(&parent, &n); err != nil {
			t.Fatal(err)
		}
		got[parent] = n
	}
	// Parent 1: the even IDs of 1..20; parent 2: 101 and 103; 3 and 9 none.
	if want := map[int]int{1: 10, 2: 2, 3: 0, 9: 0}; !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v\n%s %v", got, want, query, args)
	}
	if _, _, err := lateral.CountPerParent(entsql.Dialect(dialect.SQLite).Select("id").From(entsql.Table("kids")), "parent", []int{1}); err == nil {
		t.Error("no error for another dialect")
	}
}

// Only a page read with one node past it loses that node.
func TestWithoutLookahead(t *testing.T) {
	nodes := []int{1, 2, 3}
	for _, tc := range []struct {
		limit int
		want  []int
	}{
		{0, []int{1, 2, 3}}, // not a page
		{3, []int{1, 2}},    // a page of 2, and the node past it
		{4, []int{1, 2, 3}}, // a page of 3 that ends the list
		{2, []int{1, 2, 3}}, // not read as a page of 1 (3 nodes): left alone
	} {
		if got := lateral.WithoutLookahead(nodes, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("limit %d: %v, want %v", tc.limit, got, tc.want)
		}
	}
}
