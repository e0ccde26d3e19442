package worker_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/internal/llmstub"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/reuse"
)

// analysed submits text and waits until it is COMPLETED.
func (e *env) analysed(text string, taskID *int) *ent.Feedback {
	e.t.Helper()
	fb := e.submit(text, taskID)
	if got := e.statuses(fb.ID); got[len(got)-1] != "COMPLETED" {
		e.t.Fatalf("%q: events %v, want it COMPLETED", text, got)
	}
	return e.reload(fb.ID)
}

func TestExactDuplicateReusesTheAnalysis(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.startWorker(workerOpts{reuse: reuse.Settings{Exact: true}})

	first := e.analysed("Nobody can log in since the last release!", &e.taskIDs[0])
	if first.ReusedFromID != nil || e.llm.Calls() != 1 {
		t.Fatalf("the first analysis: reused from %v, %d model calls; want the model asked once", first.ReusedFromID, e.llm.Calls())
	}
	if first.StateFingerprint == nil || first.NormalizedText == nil || *first.NormalizedText != "nobody can log in since the last release" {
		t.Errorf("the first analysis stored state %v, text %v", first.StateFingerprint, first.NormalizedText)
	}

	// The same words, other case, spaces and punctuation.
	again := e.analysed("  NOBODY can log in — since the last release ", &e.taskIDs[0])
	if e.llm.Calls() != 1 {
		t.Fatalf("%d model calls after a duplicate, want still 1", e.llm.Calls())
	}
	if again.ReusedFromID == nil || *again.ReusedFromID != first.ID {
		t.Fatalf("reused from %v, want %d", again.ReusedFromID, first.ID)
	}
	if *again.Summary != *first.Summary || *again.Provider != "openai" || *again.Model != "stub-model" ||
		*again.StateFingerprint != *first.StateFingerprint {
		t.Errorf("reused analysis: summary %q, %s/%s", *again.Summary, *again.Provider, *again.Model)
	}
	adj, orig := again.Edges.Adjustments, first.Edges.Adjustments
	if len(adj) != 2 || len(orig) != 2 {
		t.Fatalf("%d adjustments, want 2 as the original's %d", len(adj), len(orig))
	}
	for i := range adj {
		if adj[i].ID == orig[i].ID || adj[i].FeedbackID != again.ID || adj[i].Status != adjustment.StatusProposed ||
			adj[i].AdjustmentType != orig[i].AdjustmentType || adj[i].Description != orig[i].Description ||
			!same(adj[i].NewValue, orig[i].NewValue) || !same(adj[i].TaskID, orig[i].TaskID) || !same(adj[i].Reasoning, orig[i].Reasoning) {
			t.Errorf("adjustment %d: %+v, want a new PROPOSED copy of %+v", i, adj[i], orig[i])
		}
	}
	// The original value is the task's, read when stored.
	if adj[0].OriginalValue == nil || *adj[0].OriginalValue != "1" {
		t.Errorf("original value %v, want the task's priority 1", adj[0].OriginalValue)
	}

	// A source that was itself a reuse: the new one names the original.
	// (The original no longer matches, as if its key had changed.)
	e.client.Feedback.UpdateOneID(first.ID).SetNormalizedTextHash("changed").ExecX(accesstest.System())
	third := e.analysed("nobody can log in since the last release", &e.taskIDs[0])
	if e.llm.Calls() != 1 || third.ReusedFromID == nil || *third.ReusedFromID != first.ID {
		t.Errorf("a reuse of a reuse: %d model calls, reused from %v; want 1 and %d (the original)", e.llm.Calls(), third.ReusedFromID, first.ID)
	}
}

func same[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// Only feedback about the same task, in the same project, on the same
// project state reuses an analysis.
func TestReuseNeedsTheSameTaskProjectAndState(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.startWorker(workerOpts{reuse: reuse.Settings{Exact: true, Near: 0.5}})
	const text = "The push notifications arrive twice"
	calls := 0
	fresh := func(what string, fb *ent.Feedback) {
		t.Helper()
		calls++
		if e.llm.Calls() != calls || fb.ReusedFromID != nil {
			t.Errorf("%s: %d model calls (want %d), reused from %v; want a new analysis", what, e.llm.Calls(), calls, fb.ReusedFromID)
		}
	}
	fresh("the first", e.analysed(text, &e.taskIDs[1]))
	fresh("another task", e.analysed(text, &e.taskIDs[0]))
	fresh("no task", e.analysed(text, nil))

	ctx := accesstest.System()
	other := e.client.Project.Create().SetName("Mobile app").SetDescription("Ship v2 by March").SaveX(ctx)
	otherTask := e.client.Task.Create().SetProjectID(other.ID).SetTitle("Push notifications").SaveX(ctx)
	fb, err := e.pipeline.Submit(ctx, pipeline.Submission{ProjectID: other.ID, TaskID: &otherTask.ID, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e, fb.ID)
	fresh("another project", e.reload(fb.ID))

	// A task's state changes: the earlier analyses saw another one.
	e.client.Task.UpdateOneID(e.taskIDs[0]).SetPriority(5).ExecX(ctx)
	changed := e.analysed(text, &e.taskIDs[1])
	fresh("a changed task", changed)
	e.client.Task.Create().SetProjectID(e.projectID).SetTitle("Dark mode").SaveX(ctx)
	fresh("a task added", e.analysed(text, &e.taskIDs[1]))
	e.client.Task.DeleteOneID(e.taskIDs[0]).ExecX(ctx) // the last added stays
	last := e.analysed(text, &e.taskIDs[1])
	fresh("a task deleted", last)

	// Nothing changed since: reused.
	reused := e.analysed(text+".", &e.taskIDs[1])
	if e.llm.Calls() != calls || reused.ReusedFromID == nil || *reused.ReusedFromID != last.ID {
		t.Errorf("the same state again: %d model calls (want %d), reused from %v (want %d)", e.llm.Calls(), calls, reused.ReusedFromID, last.ID)
	}
}

// waitFor waits until feedback id (of any project) is finished.
func waitFor(t *testing.T, e *env, id int) {
	t.Helper()
	testutil.WaitFor(t, "the feedback finished", func() bool {
		s := e.reload(id).Status
		return s == feedback.StatusCompleted || s == feedback.StatusFailed
	})
}

// Near duplicates are reused only when a threshold is set, and then only
// above it, from the most similar.
func TestNearDuplicatesAreReusedOnlyWhenEnabled(t *testing.T) {
	const (
		text    = "The login screen freezes after I type my password"
		near    = "The login screen freezes after I type in my password"
		nearer  = "the login screen freezes after i type my passwords"
		farAway = "Please add a dark mode to the settings"
	)
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.startWorker(workerOpts{reuse: reuse.Settings{Exact: true}})
	e.analysed(text, &e.taskIDs[0])
	if fb := e.analysed(near, &e.taskIDs[0]); e.llm.Calls() != 2 || fb.ReusedFromID != nil {
		t.Errorf("near reuse off: %d model calls, reused from %v; want a new analysis", e.llm.Calls(), fb.ReusedFromID)
	}

	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.startWorker(workerOpts{reuse: reuse.Settings{Exact: true, Near: 0.7}})
	first := e.analysed(text, &e.taskIDs[0])
	second := e.analysed(farAway, &e.taskIDs[0])
	if e.llm.Calls() != 2 || second.ReusedFromID != nil {
		t.Fatalf("a text below the threshold: %d model calls, reused from %v; want a new analysis", e.llm.Calls(), second.ReusedFromID)
	}
	reused := e.analysed(nearer, &e.taskIDs[0])
	if e.llm.Calls() != 2 || reused.ReusedFromID == nil || *reused.ReusedFromID != first.ID {
		t.Fatalf("a near duplicate: %d model calls, reused from %v; want 2 calls and reuse of %d", e.llm.Calls(), reused.ReusedFromID, first.ID)
	}
	if *reused.Summary != *first.Summary || len(reused.Edges.Adjustments) != len(first.Edges.Adjustments) {
		t.Errorf("the near duplicate's analysis: %q with %d adjustments", *reused.Summary, len(reused.Edges.Adjustments))
	}
	// Its own text is kept, not the source's.
	if *reused.NormalizedText != "the login screen freezes after i type my passwords" {
		t.Errorf("normalised text %q", *reused.NormalizedText)
	}
	// Not about the same task: asked.
	if other := e.analysed(near, &e.taskIDs[1]); e.llm.Calls() != 3 || other.ReusedFromID != nil {
		t.Errorf("a near duplicate about another task: %d model calls, reused from %v", e.llm.Calls(), other.ReusedFromID)
	}
}

// A fallback provider's answer stood in for the configured model's: it is
// not reused, the model is asked again, and its answer is reused after.
func TestAFallbacksAnswerIsNotReused(t *testing.T) {
	var mu sync.Mutex
	failures := 2 // the primary's two attempts for the first feedback
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return llmstub.Status(500, "upstream exploded")
		}
		return e.goodAnswer(r)
	})
	e.startWorker(workerOpts{maxAttempts: 2, withFallback: true, reuse: reuse.Settings{Exact: true}})
	const text = "The login screen keeps crashing"
	byRules := e.analysed(text, nil)
	if *byRules.Provider != "builtin" || byRules.FallbackReason == nil {
		t.Fatalf("the first analysis: %s with fallback reason %v, want the built-in rules standing in", *byRules.Provider, byRules.FallbackReason)
	}
	byModel := e.analysed(text, nil)
	if e.llm.Calls() != 3 || byModel.ReusedFromID != nil || *byModel.Provider != "openai" {
		t.Fatalf("after a fallback's answer: %d model calls, reused from %v, provider %s; want the model asked", e.llm.Calls(), byModel.ReusedFromID, *byModel.Provider)
	}
	again := e.analysed(text, nil)
	if e.llm.Calls() != 3 || again.ReusedFromID == nil || *again.ReusedFromID != byModel.ID {
		t.Errorf("then: %d model calls, reused from %v; want the model's analysis %d reused", e.llm.Calls(), again.ReusedFromID, byModel.ID)
	}
}

// With an embedder and a threshold, feedback that means what earlier
// feedback said, in other words, reuses its analysis; exact duplicates are
// found without an embedding.
func TestSemanticNeighboursAreReusedWhenEnabled(t *testing.T) {
	var e *env
	e = newEnv(t, func(r llmstub.Request) llmstub.Reply { return e.goodAnswer(r) })
	e.llm.Embed(func(text string) []float32 {
		if strings.Contains(text, "log in") || strings.Contains(text, "sign in") {
			return []float32{1, 0.1, 0}
		}
		return []float32{0, 0.2, 1}
	})
	e.startWorker(workerOpts{embed: true, reuse: reuse.Settings{Exact: true, Semantic: 0.9}})

	first := e.analysed("Nobody can log in", &e.taskIDs[0])
	if e.llm.Calls() != 1 || len(e.llm.Embedded()) != 1 || first.Embedding == nil || *first.EmbeddingModel != "stub-embed" {
		t.Fatalf("the first: %d model calls, embedded %q, model %v", e.llm.Calls(), e.llm.Embedded(), first.EmbeddingModel)
	}
	if dup := e.analysed("nobody can LOG IN!", &e.taskIDs[0]); dup.ReusedFromID == nil || len(e.llm.Embedded()) != 1 {
		t.Errorf("an exact duplicate: reused from %v, embedded %q; want reuse without an embedding", dup.ReusedFromID, e.llm.Embedded())
	}
	same := e.analysed("Users are unable to sign in", &e.taskIDs[0])
	if e.llm.Calls() != 1 || same.ReusedFromID == nil || *same.ReusedFromID != first.ID {
		t.Errorf("the same meaning: %d model calls, reused from %v; want %d reused", e.llm.Calls(), same.ReusedFromID, first.ID)
	}
	other := e.analysed("Please add a dark mode", &e.taskIDs[0])
	if e.llm.Calls() != 2 || other.ReusedFromID != nil {
		t.Errorf("another meaning: %d model calls, reused from %v; want the model asked", e.llm.Calls(), other.ReusedFromID)
	}
	if got := e.llm.Embedded(); len(got) != 3 || got[1] != "Users are unable to sign in" {
		t.Errorf("embedded %q", got)
	}
	// Not about the same task: asked, whatever it means.
	if elsewhere := e.analysed("Users are unable to sign in", &e.taskIDs[1]); e.llm.Calls() != 3 || elsewhere.ReusedFromID != nil {
		t.Errorf("about another task: %d model calls, reused from %v", e.llm.Calls(), elsewhere.ReusedFromID)
	}
}
