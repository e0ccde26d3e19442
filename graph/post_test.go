package graph_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
)

// POST answers are written by the service's own transport (jsonPOST): the
// same members and media types as gqlgen's, the data copied as the
// executor wrote it, with its length.
func TestPostAnswers(t *testing.T) {
	e := newEnv(t)
	p := e.createProject(`<b>Checkout</b> & "quotes"`)

	post := func(accept, query string) (*http.Response, []byte) {
		t.Helper()
		header := http.Header{}
		if accept != "" {
			header.Set("Accept", accept)
		}
		return gqltest.PostRaw(t, e.url, header, query, nil)
	}

	// Data only: the name comes back as it was stored.
	resp, body := post("", `{ node(id: "`+p.ID+`") { ... on Project { name } } }`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %q for a body of %d bytes", resp.Header.Get("Content-Length"), len(body))
	}
	var data struct {
		Data struct{ Node struct{ Name string } }
	}
	if err := json.Unmarshal(body, &data); err != nil || data.Data.Node.Name != `<b>Checkout</b> & "quotes"` {
		t.Errorf("body %s (%v)", body, err)
	}
	if !strings.HasPrefix(string(body), `{"data":{"node":`) {
		t.Errorf("body %s, want the data member alone", body)
	}

	// An error beside data: errors first, as json.Marshal writes gqlgen's response.
	_, body = post("", `{ a: node(id: "`+p.ID+`") { id } b: node(id: "nope") { id } }`)
	var partial struct {
		Errors []struct {
			Path       []any
			Extensions map[string]any
		}
		Data map[string]any
	}
	if err := json.Unmarshal(body, &partial); err != nil || len(partial.Errors) != 1 || partial.Data["a"] == nil {
		t.Fatalf("body %s (%v)", body, err)
	}
	if !strings.HasPrefix(string(body), `{"errors":[`) || !strings.Contains(string(body), `],"data":{`) {
		t.Errorf("body %s, want errors then data", body)
	}

	// The media type follows Accept as gqlgen chooses it, and so does the
	// status of a document that does not parse.
	for _, tc := range []struct {
		accept, media string
		parseStatus   int
	}{
		{"", "application/json", 200},
		{"*/*", "application/json", 200},
		{"application/json", "application/json", 200},
		{"application/graphql-response+json", "application/graphql-response+json", 400},
		{"application/graphql-response+json, application/json;q=0.9", "application/graphql-response+json", 400},
		{"text/html", "application/graphql-response+json", 400},
	} {
		resp, _ := post(tc.accept, `{ __typename }`)
		if got := resp.Header.Get("Content-Type"); got != tc.media || resp.StatusCode != 200 {
			t.Errorf("Accept %q: %d %q, want 200 %q", tc.accept, resp.StatusCode, got, tc.media)
		}
		resp, body := post(tc.accept, `{ projects(`)
		if resp.StatusCode != tc.parseStatus || !strings.HasPrefix(string(body), `{"errors":[`) {
			t.Errorf("Accept %q, a document that does not parse: %d %s, want %d and errors", tc.accept, resp.StatusCode, body, tc.parseStatus)
		}
	}
}
