package main

import (
	"fmt"
	"net/http"
	"time"
)

// peerPostGraphile is PostGraphile v4 with simple subscriptions, serving
// bench/postgraphile-v4/schema.sql.
const peerPostGraphile = "postgraphile-v4"

// setUpPostGraphile measures PostGraphile as issue 12 did: every subscriber
// listens to the run's topic and selects the related feedback (which
// PostGraphile loads once per subscriber and event), and an event is a
// createFeedback mutation, announced on the topic by the table's trigger.
// PostGraphile has no authorization here: every connection is anonymous.
func setUpPostGraphile(o options) (target, error) {
	api := &client{url: o.url + "/graphql", http: &http.Client{Timeout: time.Minute}}
	topic := "loadsubs_" + o.runID
	return target{
		wsURL:     o.websocket("/graphql"),
		query:     `subscription($t: String!) { listen(topic: $t) { relatedNode { ... on Feedback { id status feedbackText } } } }`,
		variables: map[string]any{"t": topic},
		tokens:    make([]string, o.users()),
		submit: func(text string) error {
			err := api.do("", `mutation($t: String!, $x: String!) { createFeedback(input: {feedback: {topic: $t, feedbackText: $x}}) { feedback { id } } }`,
				map[string]any{"t": topic, "x": text}, nil)
			if err != nil {
				return fmt.Errorf("PostGraphile's createFeedback: %w", err)
			}
			return nil
		},
	}, nil
}
