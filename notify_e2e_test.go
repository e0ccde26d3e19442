package main

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testsmtp"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// The whole path in one process: an endpoint has failed for a day (its
// failing_since moved back in the database), the worker's next failed
// delivery disables it, and its OWNER, who has a digest address, is
// mailed once over SMTP to a real server, after a refusal by that server.
func TestAnEndpointDisabledIsMailedToItsOwners(t *testing.T) {
	mail := testsmtp.Start(t)
	dsn := newDatabaseURL(t)
	base, logs := startServer(t, map[string]string{"DATABASE_URL": dsn, "SMTP_URL": mail.URL, "WEBHOOK_ALLOW_PRIVATE": "true",
		"SMTP_FROM": "Feedback Loop <notes@example.com>", "NOTIFY_INTERVAL": "100ms"})
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer broken.Close()
	projectID, taskID := createProjectWithTask(t, base)
	gqltest.MustPost(t, base, `mutation($p: ID!) { setDigest(projectID: $p, frequency: NONE, email: "lead@example.com") { sending } }`,
		map[string]any{"p": projectID}, nil)
	gqltest.MustPost(t, base, `mutation($p: ID!, $url: String!) { createWebhook(input: {projectID: $p, url: $url, events: [FEEDBACK_SUBMITTED]}) { secret } }`,
		map[string]any{"p": projectID, "url": broken.URL}, nil)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string) int {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	submitFeedback(t, base, projectID, taskID, "first")
	testutil.WaitFor(t, "the endpoint failing", func() bool { return count(`SELECT count(*) FROM webhooks WHERE failing_since IS NOT NULL`) == 1 })
	if _, err := db.Exec(`UPDATE webhooks SET failing_since = now() - interval '25 hours'`); err != nil {
		t.Fatal(err)
	}
	mail.Refuse(t, 451)
	submitFeedback(t, base, projectID, taskID, "second")
	testutil.WaitFor(t, "the endpoint disabled", func() bool { return count(`SELECT count(*) FROM webhooks WHERE NOT enabled`) == 1 })
	testutil.WaitFor(t, "a refused notification", func() bool {
		return count(`SELECT count(*) FROM notifications WHERE status = 'PENDING' AND attempt_count > 0`) == 1
	})
	mail.Refuse(t, 0)
	if _, err := db.Exec(`UPDATE notifications SET next_attempt_at = now()`); err != nil {
		t.Fatal(err)
	}
	var msgs []testsmtp.Message
	testutil.WaitFor(t, "the notification in the mailbox", func() bool { msgs = mail.Messages(t); return len(msgs) > 0 })
	m := msgs[0]
	if len(msgs) != 1 || len(m.To) != 1 || m.To[0].Address != "lead@example.com" || !strings.Contains(m.Subject, "Webhook to 127.0.0.1 disabled in Website") ||
		!strings.Contains(m.Text, "every delivery has failed since") || !strings.Contains(m.HTML, "updateWebhook") {
		t.Fatalf("%d messages; the first: to %v, subject %q\n%s\n%s", len(msgs), m.To, m.Subject, m.Text, m.HTML)
	}
	if n := count(`SELECT count(*) FROM notifications WHERE status = 'SENT'`); n != 1 {
		t.Errorf("%d notifications SENT, want 1", n)
	}
	if !strings.Contains(logs.String(), `"owners_emailed":1`) {
		t.Errorf("no log line of the disabling naming the owners emailed:\n%s", logs.String())
	}
}
