package graph_test

import (
	"strings"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/webhookdelivery"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

const createWebhook = `mutation($p: ID!, $url: String!, $events: [WebhookEventType!]!, $kind: WebhookKind! = STANDARD) {
  createWebhook(input: {projectID: $p, url: $url, events: $events, kind: $kind}) { webhook { id url kind events enabled } secret }
}`

// The secret is shown once, at creation; a project's webhooks, their
// deliveries and attempts are read by its OWNERs only.
func TestWebhooksAreOwnersOnlyAndTheirSecretIsShownOnce(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "wh")
	var created struct {
		CreateWebhook struct {
			Webhook struct {
				ID, URL, Kind string
				Events        []string
				Enabled       bool
			}
			Secret *string
		}
	}
	e.as(t, w.owner, createWebhook, map[string]any{"p": w.own, "url": " https://hooks.example.com/a ", "events": []string{"TASK_CREATED", "TASK_CREATED", "ANALYSIS_FAILED"}}, &created)
	c := created.CreateWebhook
	if c.Secret == nil || !strings.HasPrefix(*c.Secret, "whsec_") || c.Webhook.URL != "https://hooks.example.com/a" ||
		c.Webhook.Kind != "STANDARD" || !c.Webhook.Enabled || strings.Join(c.Webhook.Events, ",") != "TASK_CREATED,ANALYSIS_FAILED" {
		t.Fatalf("createWebhook returned %+v", c)
	}
	stored := e.client.Webhook.GetX(accesstest.System(), dbID(t, c.Webhook.ID))
	if stored.Secret != *c.Secret {
		t.Fatal("the secret returned is not the one deliveries are signed with")
	}
	// A delivery with an attempt, as the worker records them.
	code := 502
	problem := "the endpoint answered HTTP 502"
	e.client.WebhookDelivery.Create().SetWebhookID(stored.ID).SetEventID(7).SetEventType(webhooks.TaskCreated).
		SetMessageID("msg_7").SetBody([]byte(`{}`)).SetStatus(webhookdelivery.StatusFailed).SetAttemptCount(1).
		SetResponseCode(code).SetDurationMs(12).SetError(problem).SetRetryUntil(time.Now()).
		SetAttempts([]webhooks.Attempt{{At: time.Now().UTC(), ResponseCode: &code, DurationMs: 12, Error: &problem}}).
		ExecX(accesstest.System())

	read := `query($p: ID!) { node(id: $p) { ... on Project { webhooks { id url deliveries(first: 10) { totalCount edges { node {
	  id status eventType responseCode durationMs attemptCount attempts { at responseCode durationMs error } } } } } } } }`
	type page struct {
		Node struct {
			Webhooks []struct {
				ID         string
				Deliveries struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							ID, Status, EventType string
							ResponseCode          *int
							AttemptCount          int
							Attempts              []struct {
								ResponseCode *int
								Error        *string
							}
						}
					}
				}
			}
		}
	}
	for cred, sees := range map[string]bool{w.owner: true, "Bearer " + testAdminKey: true, w.editor: false, w.reader: false, w.key: false} {
		var got page
		e.as(t, cred, read, map[string]any{"p": w.own}, &got)
		hooks := got.Node.Webhooks
		if !sees {
			if len(hooks) != 0 {
				t.Errorf("a non-OWNER sees webhooks: %+v", hooks)
			}
			continue
		}
		var mine bool
		for _, h := range hooks {
			if h.ID != c.Webhook.ID {
				continue
			}
			mine = true
			d := h.Deliveries
			if d.TotalCount != 1 || d.Edges[0].Node.Status != "FAILED" || d.Edges[0].Node.EventType != "TASK_CREATED" ||
				*d.Edges[0].Node.ResponseCode != 502 || len(d.Edges[0].Node.Attempts) != 1 || *d.Edges[0].Node.Attempts[0].Error != problem {
				t.Errorf("deliveries %+v", d)
			}
		}
		if !mine {
			t.Errorf("the OWNER's webhook is missing from %+v", hooks)
		}
	}
	// The secret is no field of Webhook: asking for it is a validation error.
	resp := gqltest.PostAs(t, e.url, w.owner, `query($id: ID!) { node(id: $id) { ... on Webhook { secret } } }`, map[string]any{"id": c.Webhook.ID})
	if len(resp.Errors) == 0 {
		t.Fatal("a webhook's secret could be read back")
	}
}

// createWebhook and updateWebhook say what is wrong with a URL or the
// events; a project has at most WEBHOOKS_PER_PROJECT webhooks.
func TestWebhookInputsAndTheProjectsLimit(t *testing.T) {
	e := newEnvWith(t, func(c *graph.Config) { c.WebhooksPerProject = 2 })
	p := e.createProject("Hooks")
	for _, tc := range []struct {
		url    string
		events []string
		kind   string
		want   string
	}{
		{"ftp://example.com/x", []string{"TASK_CREATED"}, "STANDARD", `input.url must be an http or https URL, not "ftp"`},
		{"https://", []string{"TASK_CREATED"}, "STANDARD", "input.url must name a host"},
		{"https://hooks.example.com/" + strings.Repeat("a", 2048), []string{"TASK_CREATED"}, "STANDARD", "input.url"},
		{"https://hooks.example.com/", []string{}, "STANDARD", "input.events must name at least one event type"},
		{"https://hooks.slack.com/services/T/B/X", []string{"TASK_CREATED"}, "SLACK", "SLACK webhook is sent ANALYSIS_COMPLETED, ANALYSIS_FAILED and SUGGESTION_APPLIED only"},
	} {
		got := e.mustFail(createWebhook, map[string]any{"p": p.ID, "url": tc.url, "events": tc.events, "kind": tc.kind}, graph.CodeBadUserInput)
		if !strings.Contains(got.Message, tc.want) {
			t.Errorf("%s %v: %q, want it to say %q", tc.url, tc.events, got.Message, tc.want)
		}
	}
	var slack struct {
		CreateWebhook struct {
			Webhook struct{ ID, Kind string }
			Secret  *string
		}
	}
	e.mustDo(createWebhook, map[string]any{"p": p.ID, "url": "https://hooks.slack.com/services/T/B/X", "events": []string{"ANALYSIS_COMPLETED", "SUGGESTION_APPLIED"}, "kind": "SLACK"}, &slack)
	if slack.CreateWebhook.Webhook.Kind != "SLACK" || slack.CreateWebhook.Secret != nil {
		t.Fatalf("a SLACK webhook: %+v", slack.CreateWebhook)
	}
	var second struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	e.mustDo(createWebhook, map[string]any{"p": p.ID, "url": "https://hooks.example.com/2", "events": []string{"TASK_CREATED"}}, &second)
	got := e.mustFail(createWebhook, map[string]any{"p": p.ID, "url": "https://hooks.example.com/3", "events": []string{"TASK_CREATED"}}, graph.CodeBadUserInput)
	if !strings.Contains(got.Message, "the project has 2 webhooks, the most it may have (WEBHOOKS_PER_PROJECT): delete one first") {
		t.Fatalf("past the limit: %q", got.Message)
	}
	// Deleting one makes room.
	e.mustDo(`mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": slack.CreateWebhook.Webhook.ID}, nil)
	e.mustDo(createWebhook, map[string]any{"p": p.ID, "url": "https://hooks.example.com/3", "events": []string{"TASK_CREATED"}}, nil)

	got = e.mustFail(`mutation($id: ID!) { updateWebhook(id: $id, input: {url: "javascript:alert(1)"}) { id } }`,
		map[string]any{"id": second.CreateWebhook.Webhook.ID}, graph.CodeBadUserInput)
	if !strings.Contains(got.Message, `input.url must be an http or https URL, not "javascript"`) {
		t.Fatalf("updateWebhook with a javascript: URL: %q", got.Message)
	}
}

// Enabling a webhook the service disabled clears its reason; redelivering
// makes a delivery PENDING and due now.
func TestEnableAndRedeliver(t *testing.T) {
	e := newEnv(t)
	p := e.createProject("Hooks")
	var c struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	e.mustDo(createWebhook, map[string]any{"p": p.ID, "url": "https://hooks.example.com/", "events": []string{"TASK_CREATED"}}, &c)
	id := dbID(t, c.CreateWebhook.Webhook.ID)
	e.client.Webhook.UpdateOneID(id).SetEnabled(false).SetDisabledReason("every delivery has failed").SetFailingSince(time.Now()).ExecX(accesstest.System())
	d := e.client.WebhookDelivery.Create().SetWebhookID(id).SetEventID(9).SetEventType(webhooks.TaskCreated).
		SetMessageID("msg_9").SetBody([]byte(`{}`)).SetStatus(webhookdelivery.StatusFailed).SetRetryUntil(time.Now().Add(-time.Hour)).
		SaveX(accesstest.System())

	var u struct {
		UpdateWebhook struct {
			Enabled        bool
			DisabledReason *string
			FailingSince   *string
		}
	}
	e.mustDo(`mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: true}) { enabled disabledReason failingSince } }`, map[string]any{"id": c.CreateWebhook.Webhook.ID}, &u)
	if !u.UpdateWebhook.Enabled || u.UpdateWebhook.DisabledReason != nil || u.UpdateWebhook.FailingSince != nil {
		t.Fatalf("enabled: %+v", u.UpdateWebhook)
	}
	var r struct {
		RedeliverWebhook struct{ Status string }
	}
	e.mustDo(`mutation($id: ID!) { redeliverWebhook(deliveryID: $id) { status } }`, map[string]any{"id": gid.Encode(d.ID)}, &r)
	after := e.client.WebhookDelivery.GetX(accesstest.System(), d.ID)
	if r.RedeliverWebhook.Status != "PENDING" || after.NextAttemptAt == nil || after.NextAttemptAt.After(time.Now()) ||
		!after.RetryUntil.After(time.Now().Add(23*time.Hour)) {
		t.Fatalf("redelivered: %+v", after)
	}
}
