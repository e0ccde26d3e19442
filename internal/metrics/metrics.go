// Package metrics holds the service's Prometheus metrics. Each process
// creates one Metrics (its own registry, no global state) and passes it to
// the parts that record into it; /metrics serves it.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics records what the API and the worker do.
type Metrics struct {
	registry *prometheus.Registry

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	operations    *prometheus.CounterVec
	operationTime *prometheus.HistogramVec
	documents     *prometheus.CounterVec
	jobs          *prometheus.CounterVec
	modelCalls    *prometheus.CounterVec
	modelCallTime *prometheus.HistogramVec
	relayed       prometheus.Counter
	relayLag      prometheus.Gauge
	delivered     prometheus.Counter
	resynced      prometheus.Counter
	rateLimits    *prometheus.CounterVec
	wsRefusals    *prometheus.CounterVec
	subscriptions *prometheus.GaugeVec
	slowClients   prometheus.Counter
	fanOut        prometheus.Histogram
	replicaLag    *prometheus.GaugeVec
	replicaUse    *prometheus.GaugeVec
	reads         *prometheus.CounterVec
	reuses        *prometheus.CounterVec
}

// New returns Metrics with Go runtime and process collectors registered.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		registry: r,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackloop_http_requests_total", Help: "HTTP requests by path, method and status code.",
		}, []string{"path", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "feedbackloop_http_request_duration_seconds", Help: "HTTP request latency by path.",
			Buckets: prometheus.DefBuckets,
		}, []string{"path"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackloop_graphql_operations_total", Help: "GraphQL operations by name, type and result (ok or error).",
		}, []string{"operation", "type", "result"}),
		operationTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "feedbackloop_graphql_operation_duration_seconds", Help: "GraphQL query and mutation latency by operation name.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "type"}),
		documents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackloop_graphql_document_cache_total",
			Help: "Look-ups of parsed and validated query documents by result: hit, or miss (the document is parsed and validated).",
		}, []string{"result"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackloop_jobs_total",
			Help: "Analysis jobs by outcome: completed, failed (feedback FAILED), retried (run again later), waiting (gave its slot back until the provider allows, see LLM_MAX_IN_FLIGHT), dead_lettered, skipped (nothing to do).",
		}, []string{"outcome"}),
		modelCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackloop_model_calls_total", Help: "Model calls by provider, model and result (ok or error).",
		}, []string{"provider", "model", "result"}),
		modelCallTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "feedbackloop_model_call_duration_seconds", Help: "Model call latency by provider and model.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 20, 40, 60, 120},
		}, []string{"provider", "model"}),
		relayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "feedbackloop_outbox_events_relayed_total", Help: "Outbox events this process published to Redis (while it held the relay).",
		}),
		relayLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "feedbackloop_outbox_relay_lag_events", Help: "Newest outbox event ID minus the last one published, after the last batch.",
		}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "feedbackloop_events_delivered_total", Help: "Events handed to local subscribers (one per subscriber).",
		}),
		resynced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "feedbackloop_events_resynced_total", Help: "Events a slow subscriber missed; it replays them from the outbox.",
		}),
		rateLimits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackloop_rate_limit_decisions_total",
			Help: "Rate-limit decisions by budget (requests, client_submissions, project_submissions) and decision: allowed, limited, failed_open (Redis unreachable, let through), counted_allowed and counted_limited (Redis unreachable, submissions counted from the database), failed_closed (neither could count, refused).",
		}, []string{"budget", "decision"}),
		wsRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackloop_websocket_refusals_total",
			Help: "Websocket connections and subscriptions refused by a limit: instance_connections, client_connections, subscriptions, duplicate_id.",
		}, []string{"reason"}),
		subscriptions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "feedbackloop_subscriptions",
			Help: "Open GraphQL subscriptions on this instance by operation (root field) and how they run: shared (one execution per event for every subscriber of the same document and variables) or own.",
		}, []string{"operation", "mode"}),
		slowClients: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "feedbackloop_websocket_slow_clients_disconnected_total",
			Help: "Websocket connections closed (1013) because the client read too slowly and its send queue filled up.",
		}),
		fanOut: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "feedbackloop_subscription_fanout_seconds",
			Help:    "Time to hand one event of a shared subscription to every subscriber's socket (written, or queued behind what a slow client has not read yet).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .075, .1, .15, .2, .3, .5, 1, 2.5},
		}),
		replicaLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "feedbackloop_db_replica_lag_seconds",
			Help: "Time since each read replica (host:port) last had replayed everything the primary had written, at its last check (every 250 ms).",
		}, []string{"replica"}),
		replicaUse: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "feedbackloop_db_replica_serving",
			Help: "1 while a read replica (host:port) gets reads: it answers and lags no more than DATABASE_REPLICA_MAX_LAG; else 0.",
		}, []string{"replica"}),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackloop_db_reads_total",
			Help: "GraphQL queries by where they read (target: primary, or a replica's host:port) and why: replica, caught_up (a replica replayed the caller's last write after a wait), no_replica (none answers within the lag), behind (none replayed the caller's last write in time), position_unknown (Redis could not say), replica_failed (the replica failed mid-query).",
		}, []string{"target", "reason"}),
		reuses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackloop_analyses_reused_total",
			Help: "Analyses reused from earlier feedback of the project instead of calling the model, by kind: exact (the same normalised text), near (similar by pg_trgm, FEEDBACK_REUSE_NEAR) or semantic (near embeddings, FEEDBACK_REUSE_SEMANTIC).",
		}, []string{"kind"}),
	}
	r.MustRegister(m.replicaLag, m.replicaUse, m.reads, m.reuses)
	r.MustRegister(m.httpRequests, m.httpDuration, m.operations, m.operationTime, m.documents, m.jobs, m.modelCalls, m.modelCallTime,
		m.relayed, m.relayLag, m.delivered, m.resynced, m.rateLimits, m.wsRefusals, m.subscriptions, m.slowClients, m.fanOut)
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Gauge registers a gauge read from fn at every scrape, for values another
// part owns (queue depth, open subscriptions).
func (m *Metrics) Gauge(name, help string, fn func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// QueueDepth registers the queue's size by state, read at every scrape
// with a short deadline.
func (m *Metrics) QueueDepth(fn func(context.Context) (map[string]int, error)) {
	m.registry.MustRegister(&depthCollector{fn: fn, desc: prometheus.NewDesc(
		"feedbackloop_queue_jobs", "Jobs in the queue by state (pending, active, scheduled, retry, archived = dead-lettered).",
		[]string{"state"}, nil)})
}

// HTTPRequest records one HTTP request.
func (m *Metrics) HTTPRequest(path, method string, code int, took time.Duration) {
	m.httpRequests.WithLabelValues(path, method, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(path).Observe(took.Seconds())
}

// Operation records one GraphQL operation. name is "" for anonymous ones.
func (m *Metrics) Operation(name, typ string, took time.Duration, failed bool) {
	if name == "" {
		name = "anonymous"
	}
	result := "ok"
	if failed {
		result = "error"
	}
	m.operations.WithLabelValues(name, typ, result).Inc()
	if typ != "subscription" {
		m.operationTime.WithLabelValues(name, typ).Observe(took.Seconds())
	}
}

// RateLimit records one decision of a rate-limit budget.
func (m *Metrics) RateLimit(budget, decision string) {
	m.rateLimits.WithLabelValues(budget, decision).Inc()
}

// WebsocketRefused records a websocket connection or subscription refused
// by a limit.
func (m *Metrics) WebsocketRefused(reason string) { m.wsRefusals.WithLabelValues(reason).Inc() }

// SubscriptionStarted counts an open subscription of operation (its root
// field), shared or not, until SubscriptionEnded.
func (m *Metrics) SubscriptionStarted(operation string, shared bool) {
	m.subscriptions.WithLabelValues(operation, subscriptionMode(shared)).Inc()
}

// SubscriptionEnded is the end of a subscription SubscriptionStarted counted.
func (m *Metrics) SubscriptionEnded(operation string, shared bool) {
	m.subscriptions.WithLabelValues(operation, subscriptionMode(shared)).Dec()
}

func subscriptionMode(shared bool) string {
	if shared {
		return "shared"
	}
	return "own"
}

// FannedOut records how long one event of a shared subscription took to
// reach every subscriber's socket.
func (m *Metrics) FannedOut(took time.Duration) { m.fanOut.Observe(took.Seconds()) }

// SlowClientDisconnected records a websocket closed for reading too slowly.
func (m *Metrics) SlowClientDisconnected() { m.slowClients.Inc() }

// ReplicaState records a read replica's lag and whether it gets reads.
func (m *Metrics) ReplicaState(replica string, lag time.Duration, serving bool) {
	m.replicaLag.WithLabelValues(replica).Set(lag.Seconds())
	v := 0.0
	if serving {
		v = 1
	}
	m.replicaUse.WithLabelValues(replica).Set(v)
}

// ReadRouted records where a GraphQL query read, and why.
func (m *Metrics) ReadRouted(target, reason string) { m.reads.WithLabelValues(target, reason).Inc() }

// DocumentLookup records a look-up in the cache of parsed query documents.
func (m *Metrics) DocumentLookup(hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	m.documents.WithLabelValues(result).Inc()
}

// Job records how one job run ended.
func (m *Metrics) Job(outcome string) { m.jobs.WithLabelValues(outcome).Inc() }

// AnalysisReused records an analysis reused instead of a model call; kind
// is exact, near or semantic.
func (m *Metrics) AnalysisReused(kind string) { m.reuses.WithLabelValues(kind).Inc() }

// ModelCall records one call to a model.
func (m *Metrics) ModelCall(provider, model string, took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.modelCalls.WithLabelValues(provider, model, result).Inc()
	m.modelCallTime.WithLabelValues(provider, model).Observe(took.Seconds())
}

// EventsRelayed records a batch of outbox events published and the relay's
// lag after it.
func (m *Metrics) EventsRelayed(n, lag int) {
	m.relayed.Add(float64(n))
	m.relayLag.Set(float64(lag))
}

// EventDispatched records one event handed to subscribers, of which
// resynced fell behind.
func (m *Metrics) EventDispatched(subscribers, resynced int) {
	m.delivered.Add(float64(subscribers - resynced))
	m.resynced.Add(float64(resynced))
}

type depthCollector struct {
	fn   func(context.Context) (map[string]int, error)
	desc *prometheus.Desc
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depth, err := c.fn(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range depth {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}
