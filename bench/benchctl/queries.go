package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// server is one GraphQL endpoint under test.
type server struct {
	Name   string // "ours" or "postgraphile", or a label (-servers)
	Schema string // whose queries it takes: "ours" or "postgraphile"
	URL    string // the GraphQL endpoint
	Token  string // sent as "Authorization: Bearer <Token>" when set
}

// query is one measured read, written once per server: the two schemas
// name things differently (PostGraphile's amber preset: allProjects,
// tasksByProjectId, orderBy enums, filter from the connection-filter
// plugin) but ask for the same rows in the same order.
type query struct {
	Name string
	Text map[string]string // by server schema
	// Point lookups need an ID, which only the server can give.
	NeedsID bool
}

var queries = []query{
	{
		Name: "10x10",
		Text: map[string]string{
			"ours":         `{projects(first:10){edges{node{id name tasks(first:10){edges{node{id title status}}}}}}}`,
			"postgraphile": `{allProjects(first:10){edges{node{id name tasksByProjectId(first:10){edges{node{id title status}}}}}}}`,
		},
	},
	{
		Name: "readme",
		Text: map[string]string{
			"ours": `{projects(first:10,orderBy:{field:CREATED_AT,direction:DESC}){totalCount pageInfo{hasNextPage endCursor}
				edges{node{id name tasks(first:20,orderBy:{field:PRIORITY,direction:DESC},where:{statusNotIn:[DONE]}){
				totalCount edges{node{id title priority status estimatedHours}}}}}}}`,
			"postgraphile": `{allProjects(first:10,orderBy:[CREATED_AT_DESC]){totalCount pageInfo{hasNextPage endCursor}
				edges{node{id name tasksByProjectId(first:20,orderBy:[PRIORITY_DESC],filter:{status:{notIn:["DONE"]}}){
				totalCount edges{node{id title priority status estimatedHours}}}}}}}`,
		},
	},
	{
		Name: "lookup",
		Text: map[string]string{
			"ours":         `query($id:ID!){node(id:$id){...on Project{id name description status}}}`,
			"postgraphile": `query($id:ID!){node(id:$id){...on Project{id name description status}}}`,
		},
		NeedsID: true,
	},
}

// firstProject asks a server for the ID of the project the lookup reads:
// the first by ID, the same row on both servers.
var firstProject = map[string]string{
	"ours":         `{projects(first:1){edges{node{id}}}}`,
	"postgraphile": `{allProjects(first:1){edges{node{id}}}}`,
}

// body is the JSON request body of q for s.
func (q query) body(s server, id string) ([]byte, error) {
	req := map[string]any{"query": q.Text[s.Schema]}
	if q.NeedsID {
		req["variables"] = map[string]any{"id": id}
	}
	return json.Marshal(req)
}

var client = &http.Client{Timeout: 30 * time.Second}

// post sends a GraphQL request and returns its data, failing on any
// GraphQL error: a benchmark of error responses measures nothing.
func post(ctx context.Context, s server, body []byte) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	var out struct {
		Data   map[string]any    `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil || resp.StatusCode != http.StatusOK || len(out.Errors) > 0 || out.Data == nil {
		return nil, fmt.Errorf("%s answered %d: %.500s", s.Name, resp.StatusCode, raw)
	}
	return out.Data, nil
}

// projectID returns the ID of the project the lookup reads on s.
func projectID(ctx context.Context, s server) (string, error) {
	body, _ := json.Marshal(map[string]string{"query": firstProject[s.Schema]})
	data, err := post(ctx, s, body)
	if err != nil {
		return "", err
	}
	for _, v := range data {
		edges, _ := v.(map[string]any)["edges"].([]any)
		if len(edges) == 1 {
			if id, ok := edges[0].(map[string]any)["node"].(map[string]any)["id"].(string); ok {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("%s has no project: load the data first", s.Name)
}

// comparable rewrites a response so that equal answers from the two
// servers are deep-equal: PostGraphile's field names become ours, IDs and
// cursors (opaque, and different by design) go, and every scalar becomes
// its text (PostGraphile sends bigint as a string).
func comparable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			switch k {
			case "id", "endCursor":
				continue
			case "allProjects":
				k = "projects"
			case "tasksByProjectId":
				k = "tasks"
			}
			out[k] = comparable(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = comparable(x)
		}
		return out
	case nil:
		return nil
	default:
		return fmt.Sprint(v)
	}
}

// projectIDs is a project's ID on each server, for the queries that need
// one, by server name.
func projectIDs(ctx context.Context, servers []server) (map[string]string, error) {
	ids := map[string]string{}
	for _, s := range servers {
		id, err := projectID(ctx, s)
		if err != nil {
			return nil, err
		}
		ids[s.Name] = id
	}
	return ids, nil
}

// check runs every query on both servers and fails unless they answer the
// same, with at least one row: the comparison is only fair if they do the
// same work.
func check(ctx context.Context, servers []server) error {
	ids, err := projectIDs(ctx, servers)
	if err != nil {
		return err
	}
	for _, q := range queries {
		var answers []any
		for _, s := range servers {
			body, err := q.body(s, ids[s.Name])
			if err != nil {
				return err
			}
			data, err := post(ctx, s, body)
			if err != nil {
				return fmt.Errorf("query %s: %w", q.Name, err)
			}
			answers = append(answers, comparable(data))
		}
		if !strings.Contains(fmt.Sprint(answers[0]), "name:") {
			return fmt.Errorf("query %s: no rows in %v: load the data first", q.Name, answers[0])
		}
		for i := 1; i < len(answers); i++ {
			if !reflect.DeepEqual(answers[0], answers[i]) {
				return fmt.Errorf("query %s: %s and %s answer differently:\n%s\n%s", q.Name,
					servers[0].Name, servers[i].Name, show(answers[0]), show(answers[i]))
			}
		}
	}
	return nil
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return fmt.Sprintf("%.2000s", b)
}

func queryNames() []string {
	var names []string
	for _, q := range queries {
		names = append(names, q.Name)
	}
	return names
}
