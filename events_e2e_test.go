package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testredis"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/outbox"
)

// cluster is two API processes and a worker sharing one database and one
// Redis, all running the service's real entry point.
type cluster struct {
	a, b string
}

func newCluster(t *testing.T) cluster {
	ns := testredis.Namespace(t)
	shared := map[string]string{
		"DATABASE_URL":   newDatabaseURL(t),
		"REDIS_URL":      testredis.URL(),
		"QUEUE_NAME":     "q-" + ns,
		"EVENTS_CHANNEL": "ev-" + ns,
		// A burst of submissions from one test client.
		"SUBMISSION_LIMIT_PER_CLIENT": "1000",
	}
	with := func(role string) map[string]string {
		env := map[string]string{"ROLE": role}
		for k, v := range shared {
			env[k] = v
		}
		return env
	}
	a, _ := startProcess(t, with("api"))
	b, _ := startProcess(t, with("api"))
	startProcess(t, with("worker"))
	return cluster{a: a, b: b}
}

// subscribers on an API: how many of its GraphQL subscriptions are open.
func subscribers(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^feedbackloop_active_subscriptions (\d+)`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// Two API instances and a worker: every subscriber on either instance gets
// every event exactly once, each feedback's in version order, all in one
// commit order (cursors only grow), whichever instance the change came
// through.
func TestEverySubscriberOnEveryInstanceGetsEveryEventOnceInOrder(t *testing.T) {
	c := newCluster(t)
	projectID, taskID := createProjectWithTask(t, c.a)
	const perInstance, feedbacks = 3, 8
	type sub struct {
		name string
		ws   *gqltest.WS
	}
	var subs []sub
	for _, base := range []string{c.a, c.b} {
		for i := range perInstance {
			ws := gqltest.Dial(t, base, gqltest.TransportWS)
			ws.Subscribe("p", `subscription($p: ID!) { projectFeedbackEvents(projectID: $p) { status version cursor feedback { id status } } }`,
				map[string]any{"p": projectID})
			subs = append(subs, sub{name: fmt.Sprintf("%s#%d", base, i), ws: ws})
		}
	}
	testutil.WaitFor(t, "every subscription", func() bool {
		return subscribers(t, c.a) == perInstance && subscribers(t, c.b) == perInstance
	})
	for i := range feedbacks {
		base := c.a
		if i%2 == 1 {
			base = c.b
		}
		submitFeedback(t, base, projectID, taskID, fmt.Sprintf("Feedback %d: checkout is urgent", i))
	}

	want := feedbacks * 3 // PENDING, PROCESSING, COMPLETED each
	var wg sync.WaitGroup
	for _, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			versions := map[string][]int{}
			lastCursor := ""
			for range want {
				m, ok := s.ws.Pending(30 * time.Second)
				if !ok {
					t.Errorf("%s: only %d of %d events", s.name, countAll(versions), want)
					return
				}
				var body struct {
					Data struct {
						ProjectFeedbackEvents struct {
							Status   string
							Version  int
							Cursor   string
							Feedback struct{ ID, Status string }
						}
					}
				}
				if err := json.Unmarshal(m.Payload, &body); err != nil || m.Kind != "data" {
					t.Errorf("%s: %s %s", s.name, m.Kind, m.Payload)
					return
				}
				ev := body.Data.ProjectFeedbackEvents
				if cursorID(t, ev.Cursor) <= cursorID(t, lastCursor) {
					t.Errorf("%s: cursor %s after %s: out of commit order or repeated", s.name, ev.Cursor, lastCursor)
				}
				lastCursor = ev.Cursor
				versions[ev.Feedback.ID] = append(versions[ev.Feedback.ID], ev.Version)
			}
			if len(versions) != feedbacks {
				t.Errorf("%s: events of %d feedbacks, want %d", s.name, len(versions), feedbacks)
			}
			for id, vs := range versions {
				if fmt.Sprint(vs) != "[1 2 3]" {
					t.Errorf("%s: feedback %s versions %v, want [1 2 3]", s.name, id, vs)
				}
			}
			if m, ok := s.ws.Pending(300 * time.Millisecond); ok {
				t.Errorf("%s: an extra event %s", s.name, m.Payload)
			}
		}()
	}
	wg.Wait()
}

func countAll(m map[string][]int) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

// cursorID reads the event ID in a cursor ("" is before every event).
func cursorID(t *testing.T, cursor string) int {
	t.Helper()
	if cursor == "" {
		return 0
	}
	id, err := outbox.ParseCursor(cursor)
	if err != nil {
		t.Fatalf("cursor %q: %v", cursor, err)
	}
	return id
}

// A board on one instance, a real graphql-ws client in Node, sees the
// suggestion applied and the task it changed through the other instance.
func TestProjectEventsReachAGraphQLWSClientOnAnotherInstance(t *testing.T) {
	c := newCluster(t)
	projectID, taskID := createProjectWithTask(t, c.a)
	id := submitFeedback(t, c.a, projectID, taskID, "Writing the checkout is urgent")
	var fb struct {
		Node struct {
			Status      string
			Adjustments []struct{ ID, AdjustmentType string }
		}
	}
	testutil.WaitFor(t, "the analysis", func() bool {
		gqltest.MustPost(t, c.a, `query($id: ID!) { node(id: $id) { ... on Feedback { status adjustments { id adjustmentType } } } }`, map[string]any{"id": id}, &fb)
		return fb.Node.Status == "COMPLETED"
	})
	var apply string
	for _, a := range fb.Node.Adjustments {
		if a.AdjustmentType == "TASK_PRIORITY" {
			apply = a.ID
		}
	}
	if apply == "" {
		t.Fatalf("no priority suggestion to apply: %+v", fb.Node.Adjustments)
	}

	type result struct {
		out  string
		code int
	}
	done := make(chan result, 1)
	go func() {
		out, code := graphqlWSClient(t, c.b, "", 2, `subscription($p: ID!) { projectEvents(projectID: $p) {
			__typename
			... on TaskEvent { change version task { id priority } }
			... on AdjustmentEvent { decision: status adjustment { id } }
		} }`, map[string]any{"p": projectID})
		done <- result{out, code}
	}()
	testutil.WaitFor(t, "the Node client's subscription on B", func() bool { return subscribers(t, c.b) == 1 })
	gqltest.MustPost(t, c.a, `mutation($id: ID!) { applyAdjustment(id: $id, force: true) { task { priority } } }`, map[string]any{"id": apply}, nil)
	r := <-done
	if r.code != 0 {
		t.Fatalf("node client exited %d:\n%s", r.code, r.out)
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"__typename":"TaskEvent","change":"UPDATED"`) || !strings.Contains(lines[0], taskID) ||
		!strings.Contains(lines[1], `"__typename":"AdjustmentEvent","decision":"APPLIED"`) || !strings.Contains(lines[1], apply) {
		t.Fatalf("the board saw:\n%s", r.out)
	}
}
