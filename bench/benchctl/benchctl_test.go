package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/ent/user"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "benchctl", &dbTemplate) }

func TestLoadAndGrowWriteRowsTheServiceCanServe(t *testing.T) {
	db, _ := dbTemplate.Open(t)
	ctx := context.Background()
	if err := load(ctx, db, 4, 5, "bench-viewer"); err != nil {
		t.Fatal(err)
	}
	if err := grow(ctx, db, 2, 9); err != nil {
		t.Fatal(err)
	}

	// The newest projects come first by ID too, and only they grew.
	client := store.NewClient(db)
	projects, err := client.Project.Query().Order(project.ByCreatedAt(sql.OrderDesc())).WithTasks().All(accesstest.System())
	if err != nil {
		t.Fatal(err)
	}
	if len(projects) != 4 {
		t.Fatalf("%d projects, want 4", len(projects))
	}
	for i, p := range projects {
		want := 5
		if i < 2 {
			want = 9
		}
		if len(p.Edges.Tasks) != want {
			t.Errorf("%s has %d tasks, want %d", p.Name, len(p.Edges.Tasks), want)
		}
		if i > 0 && p.ID <= projects[i-1].ID {
			t.Errorf("%s (ID %d) is older than the project before it but has a higher ID", projects[i-1].Name, projects[i-1].ID)
		}
		// IDs must be in ent's range for the type, or global IDs break.
		if typ, _ := ent.NodeTypeOfID(p.ID); typ != "Project" {
			t.Errorf("project ID %d is outside the projects' range (%q)", p.ID, typ)
		}
		titles := map[string]bool{}
		for _, tk := range p.Edges.Tasks {
			if typ, _ := ent.NodeTypeOfID(tk.ID); typ != "Task" {
				t.Errorf("task ID %d is outside the tasks' range (%q)", tk.ID, typ)
			}
			if err := task.StatusValidator(tk.Status); err != nil {
				t.Errorf("task %d: %v", tk.ID, err)
			}
			titles[tk.Title] = true
		}
		if len(titles) != want {
			t.Errorf("%s: %d distinct titles for %d tasks", p.Name, len(titles), want)
		}
		if err := project.StatusValidator(p.Status); err != nil {
			t.Errorf("project %d: %v", p.ID, err)
		}
	}

	// The member reads every project and task through the privacy rules,
	// as a VIEWER, and nothing more than that.
	u := client.User.Query().Where(user.Subject("bench-viewer")).OnlyX(accesstest.System())
	asViewer := viewer.NewContext(ctx, &viewer.Viewer{UserID: u.ID, Subject: u.Subject, Kind: viewer.User})
	if n := client.Project.Query().CountX(asViewer); n != 4 {
		t.Errorf("the viewer sees %d projects, want 4", n)
	}
	if n := client.Task.Query().CountX(asViewer); n != 2*9+2*5 {
		t.Errorf("the viewer sees %d tasks, want %d", n, 2*9+2*5)
	}
	for _, m := range client.ProjectMember.Query().AllX(accesstest.System()) {
		if m.UserID != u.ID || m.Role != viewer.Reader {
			t.Errorf("membership %+v, want VIEWER of user %d", m, u.ID)
		}
	}

	// Loading again starts over; the user stays, with the new projects.
	if err := load(ctx, db, 2, 3, "bench-viewer"); err != nil {
		t.Fatal(err)
	}
	if n := client.Task.Query().CountX(accesstest.System()); n != 6 {
		t.Errorf("%d tasks after a second load, want 6", n)
	}
	if n := client.Project.Query().CountX(asViewer); n != 2 {
		t.Errorf("the viewer sees %d projects after a second load, want 2", n)
	}
	// Without a member nobody but the system sees the data.
	if err := load(ctx, db, 2, 3, ""); err != nil {
		t.Fatal(err)
	}
	if n := client.Project.Query().CountX(asViewer); n != 0 {
		t.Errorf("the viewer sees %d projects after a load without members, want 0", n)
	}
}

func TestComparableMatchesEqualAnswersAcrossSchemas(t *testing.T) {
	decode := func(s string) any {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	ours := decode(`{"projects":{"totalCount":2,"pageInfo":{"hasNextPage":true,"endCursor":"abc"},
		"edges":[{"node":{"id":"UHJvamVjdDox","name":"P","tasks":{"edges":[{"node":{"id":"x","title":"T","priority":3,"estimatedHours":1.5}}]}}}]}}`)
	pg := decode(`{"allProjects":{"totalCount":2,"pageInfo":{"hasNextPage":true,"endCursor":"WyJuYXR1cmFsIiwxXQ=="},
		"edges":[{"node":{"id":"WyJwcm9qZWN0cyIsMV0=","name":"P","tasksByProjectId":{"edges":[{"node":{"id":"y","title":"T","priority":"3","estimatedHours":1.5}}]}}}]}}`)
	if !reflect.DeepEqual(comparable(ours), comparable(pg)) {
		t.Errorf("equal answers compare unequal:\n%v\n%v", comparable(ours), comparable(pg))
	}
	other := decode(`{"allProjects":{"totalCount":2,"pageInfo":{"hasNextPage":true,"endCursor":"c"},
		"edges":[{"node":{"id":"i","name":"P","tasksByProjectId":{"edges":[{"node":{"id":"y","title":"T","priority":"4","estimatedHours":1.5}}]}}}]}}`)
	if reflect.DeepEqual(comparable(ours), comparable(other)) {
		t.Error("a different priority compares equal")
	}
}

// wrk 4.1's report with --latency, as it prints it.
const wrkReport = `Running 5s test @ http://127.0.0.1:18080/query
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    29.54ms   51.59ms 231.61ms   85.80%
    Req/Sec   529.00    531.82     1.52k    77.78%
  Latency Distribution
     50%  850.12us
     75%   35.26ms
     90%  110.50ms
     99%    1.21s
  2615 requests in 5.00s, 2.54MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:    522.84
Transfer/sec:      2.53MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	want := result{RPS: 522.84, Requests: 2615, P50: 850120 * time.Nanosecond, P99: 1210 * time.Millisecond, Errors: 12}
	if r != want {
		t.Errorf("parseWrk = %+v, want %+v", r, want)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("no error for a report without results")
	}
}

func TestResultsRoundTripAndReport(t *testing.T) {
	path := t.TempDir() + "/results.tsv"
	var rows []string
	rows = append(rows, resultsHeader)
	for i, rps := range []float64{100, 300, 200, 250} {
		rows = append(rows,
			measurement{Tasks: "100", Query: "lookup", Server: "ours", Round: i + 1, result: result{RPS: rps * 2, Requests: 10, P99: time.Millisecond}}.tsv(),
			measurement{Tasks: "100", Query: "lookup", Server: "postgraphile", Round: i + 1, result: result{RPS: rps, Requests: 10, P99: time.Millisecond}}.tsv())
	}
	if err := os.WriteFile(path, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, err := readResults(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 8 || ms[0].RPS != 200 || ms[0].P99 != time.Millisecond || ms[0].Requests != 10 {
		t.Fatalf("read back %+v", ms)
	}
	var out bytes.Buffer
	report(&out, ms)
	// Medians: 225 for PostGraphile (200 and 250), 450 for ours.
	for _, want := range []string{
		"| 100 | lookup | ours | 200 | 600 | 400 | 500 | 450 | 0.0 ms | 1.0 ms | 40 | 0 |",
		"| 100 | lookup | 450 | 225 | 2.00 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
