package graph_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/graph"
)

// BenchmarkNestedQuery is the whole HTTP round trip of bench/'s 10x10
// query (10 projects with 10 of their tasks each) against one API in open
// mode: issue 13's nested read in seconds, without wrk or PostGraphile,
// with -cpuprofile showing its Go side (PostgreSQL runs beside it, as in
// bench/run.sh).
func BenchmarkNestedQuery(b *testing.B) {
	e := newEnvWith(b, func(c *graph.Config) { c.RateLimit = nil })
	ctx := accesstest.System()
	for p := range 10 {
		pr := e.client.Project.Create().SetName("p").SaveX(ctx)
		tasks := make([]*ent.TaskCreate, 10)
		for t := range tasks {
			tasks[t] = e.client.Task.Create().SetProjectID(pr.ID).SetTitle("t").SetPriority((p + t) % 6)
		}
		e.client.Task.CreateBulk(tasks...).ExecX(ctx)
	}
	body := []byte(`{"query":"{ projects(first: 10) { edges { node { id name tasks(first: 10) { edges { node { id title status } } } } } } }"}`)
	b.ReportAllocs()
	// 32 requests at a time, like bench/run.sh's wrk: ns/op is the
	// machine's time per request rather than one round trip's.
	b.SetParallelism(16)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(e.url+"/query", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || bytes.Count(out, []byte(`"title"`)) != 100 {
				b.Errorf("%d %s", resp.StatusCode, out)
				return
			}
		}
	})
}
