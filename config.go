package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/compare"
	"github.com/feedbackloop/feedbackloop/digest"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/graph/doclimit"
	"github.com/feedbackloop/feedbackloop/integrations/github"
	"github.com/feedbackloop/feedbackloop/internal/gctune"
	"github.com/feedbackloop/feedbackloop/internal/llmlimit"
	"github.com/feedbackloop/feedbackloop/internal/postgres"
	"github.com/feedbackloop/feedbackloop/internal/redisconn"
	"github.com/feedbackloop/feedbackloop/internal/replicas"
	"github.com/feedbackloop/feedbackloop/notify"
	"github.com/feedbackloop/feedbackloop/outbox"
	"github.com/feedbackloop/feedbackloop/pipeline"
	"github.com/feedbackloop/feedbackloop/queue"
	"github.com/feedbackloop/feedbackloop/ratelimit"
	"github.com/feedbackloop/feedbackloop/reuse"
	"github.com/feedbackloop/feedbackloop/spend"
	"github.com/feedbackloop/feedbackloop/web"
	"github.com/feedbackloop/feedbackloop/webhooks"
	"github.com/feedbackloop/feedbackloop/worker"
	"github.com/feedbackloop/feedbackloop/worker/analysis"
	"github.com/feedbackloop/feedbackloop/worker/fallback"
	"github.com/feedbackloop/feedbackloop/worker/llm"
	"github.com/feedbackloop/feedbackloop/worker/rules"
)

// config is the whole configuration of a process, read once from the
// environment by loadConfig. Defaults live with the packages that use them
// (graph.DefaultMaxDepth, worker.DefaultLease, …); this file only names the
// settings. The Settings table of docs/configuration.md lists every one of
// them (TestEverySettingIsDocumented).
type config struct {
	Role         string // all, api or worker
	DatabaseURL  string
	DatabasePool postgres.Pool
	// Read replicas for GraphQL queries (none: every read on the primary)
	// and how far behind the primary one may be and still serve.
	DatabaseReplicaURLs   []string
	DatabaseReplicaMaxLag time.Duration
	// GOGC as the environment gives it; the Go runtime reads it itself.
	// Unset, gcPolicy sets it from the live heap instead.
	GOGC string
	// Redis is the one Redis topology every part uses (e.redis).
	Redis           redisconn.Options
	Addr            string // HOST:PORT
	MetricsAddr     string // where /metrics is served alone ("": with the API)
	LogLevel        slog.Level
	LogFormat       string // json or text
	ShutdownTimeout time.Duration
	// AllowedOrigins are the cross-origin browser pages that may call the
	// API; nil means the mode's default (see web.NewOrigins).
	AllowedOrigins []string

	Auth auth.Config

	QueueName      string
	EventsChannel  string
	EventRetention time.Duration
	// RejectionMemory is how long a rejected suggestion keeps its repeats
	// for the same task out of new analyses (REJECTION_MEMORY).
	RejectionMemory time.Duration

	WorkerConcurrency int
	QueuePoll         time.Duration
	JobLease          time.Duration
	ReconcileEvery    time.Duration
	PendingGrace      time.Duration

	Limits    graph.Limits
	RateLimit ratelimit.Config
	// HTTP server timeouts (web.NewServer).
	ReadTimeout, IdleTimeout time.Duration
	// TLS: both set serve HTTPS (and WSS) on every listener, both unset
	// plain HTTP.
	TLSCertFile, TLSKeyFile string

	LLM llm.Config // Provider "builtin" means the built-in rules

	// LLMFallback lists the providers tried in order when LLM is failing
	// (LLM_FALLBACK), each with its own breaker (see worker/fallback).
	LLMFallback        []llm.Config
	LLMBreakerFailures int
	LLMBreakerTimeout  time.Duration
	// LLMMaxInFlight bounds a worker's model calls in flight, over all
	// its providers (LLM_MAX_IN_FLIGHT).
	LLMMaxInFlight int

	// LLMPrices estimate each analysis's cost (LLM_PRICES, else the
	// built-in table); LLMBudget is a project's monthly budget for model
	// calls in their currency (LLM_PROJECT_MONTHLY_BUDGET, 0: none).
	LLMPrices spend.Prices
	LLMBudget spend.Budget

	// Compare says which models analyses may be compared against
	// (compareAnalyses: LLM_PROVIDER, LLM_FALLBACK, COMPARE_PROVIDERS) and
	// which share of feedback is compared automatically
	// (COMPARE_SAMPLE_RATE, against COMPARE_PROVIDERS); CompareModels
	// configures each of Compare.Targets, in its order.
	Compare       compare.Settings
	CompareModels []llm.Config

	// Reuse says which earlier analyses the worker reuses instead of
	// asking the model (FEEDBACK_REUSE, FEEDBACK_REUSE_NEAR,
	// FEEDBACK_REUSE_SEMANTIC); semantic reuse embeds texts with
	// EmbeddingModel (LLM_EMBEDDING_MODEL) of the LLM provider.
	Reuse          reuse.Settings
	EmbeddingModel string
	// WebhookAllowPrivate lets webhooks reach loopback, private and
	// link-local addresses (WEBHOOK_ALLOW_PRIVATE; tests, private networks).
	WebhookAllowPrivate bool
	// SMTP sends members' email digests (SMTP_URL, SMTP_FROM); nil:
	// digests are not sent, and members' choices are kept.
	SMTP *digest.SMTP
	// DigestEvery is how often workers look for due digests.
	DigestEvery time.Duration
	// NotifyEvery is how often workers look for due notification emails
	// (NOTIFY_INTERVAL): disabled webhooks, mentions.
	NotifyEvery time.Duration
	// WebhooksPerProject bounds a project's webhook endpoints.
	WebhooksPerProject int
	// WebhookSecrets seals webhooks' signing secrets at rest
	// (WEBHOOK_SECRET_KEY; nil: stored as they are).
	WebhookSecrets *webhooks.Sealer
	// GitHubAPIURL is GitHub's REST API, where linked repositories' issues
	// are opened (GITHUB_API_URL).
	GitHubAPIURL string
}

// Defaults that belong to no package: where the process finds its
// dependencies and how it presents itself.
const (
	defaultDatabaseURL     = "postgres://postgres@127.0.0.1:5432/feedbackloop?sslmode=disable"
	defaultRedisURL        = "redis://127.0.0.1:6379/0"
	defaultPort            = "8080"
	defaultShutdownTimeout = 30 * time.Second
	defaultEventsChannel   = "feedbackloop:feedback-events"
	defaultProvider        = "builtin"
	// OpenAI's embedding model, for FEEDBACK_REUSE_SEMANTIC.
	defaultEmbeddingModel = "text-embedding-3-small"
)

// gcPolicy sets GOGC unless the operator does. A GraphQL request allocates
// much and keeps little: under load the API spent about a fifth more CPU per
// request at Go's default (100) than at 400 (1.7 against 1.4 ms for bench/'s
// 10x10 query; issue 13). But at 400 the heap holds up to four times the
// live data in garbage, which for 10,000 idle websockets (about 100 MB live)
// made 21 KiB per connection instead of 13 (issue 12). So GOGC is 400 while
// that garbage stays within 64 MiB (a live heap up to 16 MiB, as under read
// load), then lower, down to 100.
func gcPolicy() gctune.Policy {
	return gctune.Policy{Min: 100, Max: 400, Headroom: 64 << 20, Interval: time.Second}
}

// env reads settings, collecting every problem so that one start reports
// them all.
type env struct {
	getenv func(string) string
	errs   []error
}

func (e *env) str(key, fallback string) string {
	v := strings.TrimSpace(e.getenv(key))
	if isSecret(key) {
		v = e.secret(key, v)
	}
	if v != "" {
		return v
	}
	return fallback
}

// isSecret is the table of settings that may also be given as NAME_FILE,
// the path of a file holding the value, as Docker and Kubernetes mount
// secrets. A new secret setting is one line here; the model providers' API
// keys come from llm.Providers.
func isSecret(key string) bool {
	switch key {
	case "JWT_SECRET",
		"ADMIN_API_KEY",
		"DATABASE_URL",
		"DATABASE_REPLICA_URLS",
		"REDIS_URL",
		"REDIS_PASSWORD",
		"REDIS_SENTINEL_PASSWORD",
		"WEBHOOK_SECRET_KEY",
		"SMTP_URL":
		return true
	}
	for _, p := range llm.Providers {
		if p.APIKeyVar != "" && p.APIKeyVar == key {
			return true
		}
	}
	return false
}

// secret returns the value of a secret setting: v, as the environment gives
// it, or the content of the file NAME_FILE names, less one trailing newline
// (the one editors and `echo` add). Setting both is an error: which one
// was meant cannot be told.
func (e *env) secret(key, v string) string {
	fileKey := key + "_FILE"
	path := strings.TrimSpace(e.getenv(fileKey))
	if path == "" {
		return v
	}
	if v != "" {
		e.errs = append(e.errs, fmt.Errorf("%s and %s are both set: set only one (%s names a file holding %s)", key, fileKey, fileKey, key))
		return ""
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w (it must name a file this process can read, holding %s)", fileKey, err, key))
		return ""
	}
	v = strings.TrimSuffix(strings.TrimSuffix(string(raw), "\n"), "\r")
	if v == "" {
		e.errs = append(e.errs, fmt.Errorf("%s: %s is empty (it must hold %s)", fileKey, path, key))
	}
	return v
}

func (e *env) fail(key, want, got string) {
	e.errs = append(e.errs, fmt.Errorf("%s must be %s, got %q", key, want, got))
}

// smtp reads the digests' mail settings: none without SMTP_URL, which
// then needs SMTP_FROM. Errors never repeat SMTP_URL (it may hold a
// password).
func (e *env) smtp() (*digest.SMTP, time.Duration) {
	every := e.duration("DIGEST_INTERVAL", digest.DefaultPollEvery)
	raw, from := e.str("SMTP_URL", ""), e.str("SMTP_FROM", "")
	if raw == "" {
		if from != "" {
			e.errs = append(e.errs, errors.New("SMTP_FROM is set but SMTP_URL is not: set SMTP_URL (smtp://user:password@host:587) to send digests, or unset SMTP_FROM"))
		}
		return nil, every
	}
	s, err := digest.ParseSMTP(raw, from)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("SMTP_URL %w", err))
	}
	return s, every
}

func (e *env) duration(key string, fallback time.Duration) time.Duration {
	v := e.str(key, "")
	if v == "" {
		return fallback
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.fail(key, "a positive duration such as 30s or 2m", v)
		return fallback
	}
	return d
}

func (e *env) integer(key string, fallback, lo, hi int) int {
	v := e.str(key, "")
	if v == "" {
		return fallback
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		e.fail(key, fmt.Sprintf("a whole number from %d to %d", lo, hi), v)
		return fallback
	}
	return n
}

// perProvider reads a whole number that may differ by model provider: "600"
// for every provider, "openai:600,anthropic:50" for each named one (the
// others get 0), or both, "600,anthropic:50". It returns the number of
// each provider.
func (e *env) perProvider(key string, lo, hi int) func(provider string) int {
	all, each := 0, map[string]int{}
	for _, item := range e.list(key) {
		name, v, named := strings.Cut(item, ":")
		if !named {
			v, name = name, ""
		}
		name = strings.ToLower(strings.TrimSpace(name))
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if _, known := llm.ProviderNamed(name); (named && !known) || err != nil || n < lo || n > hi {
			e.fail(key, fmt.Sprintf("a whole number from %d to %d, or a list of provider:number", lo, hi), item)
			continue
		}
		if named {
			each[name] = n
		} else {
			all = n
		}
	}
	return func(provider string) int {
		if n, ok := each[provider]; ok {
			return n
		}
		return all
	}
}

func (e *env) float(key string, fallback, lo, hi float64) float64 {
	v := e.str(key, "")
	if v == "" {
		return fallback
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < lo || f > hi {
		e.fail(key, fmt.Sprintf("a number from %v to %v", lo, hi), v)
		return fallback
	}
	return f
}

func (e *env) boolean(key string, fallback bool) bool {
	v := e.str(key, "")
	if v == "" {
		return fallback
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(key, "true or false", v)
		return fallback
	}
	return b
}

func (e *env) list(key string) []string {
	v := e.str(key, "")
	if v == "" {
		return nil
	}
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func (e *env) oneOf(key, fallback string, allowed ...string) string {
	v := strings.ToLower(e.str(key, ""))
	if v == "" {
		return fallback
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	e.fail(key, "one of "+strings.Join(allowed, ", "), v)
	return fallback
}

func loadConfig(getenv func(string) string, stderr io.Writer) (config, error) {
	e := &env{getenv: getenv}
	cfg := config{
		Role:              e.oneOf("ROLE", "all", "all", "api", "worker"),
		DatabaseURL:       e.str("DATABASE_URL", defaultDatabaseURL),
		DatabasePool:      postgres.DefaultPool,
		GOGC:              e.str("GOGC", ""),
		Redis:             e.redis(),
		MetricsAddr:       e.str("METRICS_ADDR", ""),
		ShutdownTimeout:   e.duration("SHUTDOWN_TIMEOUT", defaultShutdownTimeout),
		AllowedOrigins:    e.list("CORS_ALLOWED_ORIGINS"),
		QueueName:         e.str("QUEUE_NAME", queue.DefaultName),
		EventsChannel:     e.str("EVENTS_CHANNEL", defaultEventsChannel),
		EventRetention:    e.duration("EVENT_RETENTION", outbox.DefaultRetention),
		RejectionMemory:   e.duration("REJECTION_MEMORY", pipeline.DefaultRejectionMemory),
		WorkerConcurrency: e.integer("WORKER_CONCURRENCY", 0, 1, 1000), // 0: unset, see below
		QueuePoll:         e.duration("QUEUE_POLL_INTERVAL", queue.DefaultPollInterval),
		JobLease:          e.duration("JOB_LEASE", worker.DefaultLease),
		ReconcileEvery:    e.duration("RECONCILE_INTERVAL", worker.DefaultReconcileEvery),
		PendingGrace:      e.duration("PENDING_GRACE", worker.DefaultPendingGrace),
		Limits:            e.limits(),
		RateLimit:         e.rateLimit(),
		ReadTimeout:       e.duration("HTTP_READ_TIMEOUT", web.DefaultReadTimeout),
		IdleTimeout:       e.duration("HTTP_IDLE_TIMEOUT", web.DefaultIdleTimeout),
		Auth: auth.Config{
			JWKSURL:     e.str("JWT_JWKS_URL", ""),
			Secret:      []byte(e.str("JWT_SECRET", "")),
			Issuer:      e.str("JWT_ISSUER", ""),
			Audience:    e.str("JWT_AUDIENCE", ""),
			AdminAPIKey: e.str("ADMIN_API_KEY", ""),
		},
	}

	conns := e.integer("DATABASE_MAX_CONNS", postgres.DefaultPool.MaxOpen, 1, 1000)
	cfg.DatabasePool.MaxOpen, cfg.DatabasePool.MaxIdle = conns, conns
	cfg.DatabasePool.Statements = e.integer("DATABASE_STATEMENT_CACHE", postgres.DefaultPool.Statements, 0, 100_000)
	cfg.DatabaseReplicaURLs, cfg.DatabaseReplicaMaxLag = e.replicas()

	cfg.Addr = e.listenAddr(cfg.Auth.Open())
	cfg.TLSCertFile, cfg.TLSKeyFile = e.tls()
	if cfg.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(cfg.MetricsAddr); err != nil {
			e.fail("METRICS_ADDR", "host:port, such as 127.0.0.1:9090", cfg.MetricsAddr)
		}
	}
	if u := cfg.Auth.JWKSURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		e.fail("JWT_JWKS_URL", "an http(s) URL", u)
	}

	cfg.LogLevel, cfg.LogFormat = e.logging(stderr)

	limits := e.providerLimits()
	cfg.LLM = e.llm(limits)
	// The model call limits live in Redis beside the budgets, under the
	// deployment's one prefix.
	cfg.LLM.Limits.Prefix = cfg.RateLimit.Prefix
	cfg.LLMFallback, cfg.LLMBreakerFailures, cfg.LLMBreakerTimeout = e.llmFallback(cfg.LLM, limits)
	cfg.CompareModels, cfg.Compare = e.comparisons(cfg.LLM, cfg.LLMFallback, limits)
	cfg.LLMPrices, cfg.LLMBudget = e.llmSpend(cfg.CompareModels)
	cfg.WebhookAllowPrivate = e.boolean("WEBHOOK_ALLOW_PRIVATE", false)
	if sealer, err := webhooks.NewSealer(e.str("WEBHOOK_SECRET_KEY", "")); err != nil {
		e.errs = append(e.errs, fmt.Errorf("WEBHOOK_SECRET_KEY %w", err))
	} else {
		cfg.WebhookSecrets = sealer
	}
	cfg.SMTP, cfg.DigestEvery = e.smtp()
	cfg.NotifyEvery = e.duration("NOTIFY_INTERVAL", notify.DefaultPollEvery)
	cfg.GitHubAPIURL = strings.TrimRight(e.str("GITHUB_API_URL", github.DefaultAPIURL), "/")
	if u, err := url.Parse(cfg.GitHubAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		e.fail("GITHUB_API_URL", "an http(s) URL, such as https://api.github.com", cfg.GitHubAPIURL)
	}
	cfg.WebhooksPerProject = e.integer("WEBHOOKS_PER_PROJECT", webhooks.DefaultPerProject, 1, 1000)
	cfg.LLMMaxInFlight = e.integer("LLM_MAX_IN_FLIGHT", llm.DefaultMaxInFlight, 1, 1000)
	switch {
	case cfg.WorkerConcurrency > 0:
	case cfg.LLM.Provider != defaultProvider:
		// A job holds its slot only while it works (waits give it back):
		// with a model, the slots are the calls in flight.
		cfg.WorkerConcurrency = cfg.LLMMaxInFlight
	default:
		cfg.WorkerConcurrency = queue.DefaultConcurrency
	}
	cfg.Reuse = e.reuse()
	cfg.EmbeddingModel = e.str("LLM_EMBEDDING_MODEL", defaultEmbeddingModel)
	if cfg.Reuse.Semantic > 0 && cfg.LLM.Provider != embeddingProvider {
		e.errs = append(e.errs, fmt.Errorf("FEEDBACK_REUSE_SEMANTIC needs embeddings, which the service takes from %s's API (LLM_PROVIDER=%s, LLM_EMBEDDING_MODEL); LLM_PROVIDER is %s: unset FEEDBACK_REUSE_SEMANTIC or use %s",
			embeddingProvider, embeddingProvider, cfg.LLM.Provider, embeddingProvider))
	}
	return cfg, errors.Join(e.errs...)
}

// embeddingProvider is the one provider whose embeddings (through
// langchaingo) semantic reuse uses.
const embeddingProvider = "openai"

// reuse reads FEEDBACK_REUSE (on or off; off reuses nothing),
// FEEDBACK_REUSE_NEAR (the least pg_trgm similarity at which near
// duplicates are reused) and FEEDBACK_REUSE_SEMANTIC (the least cosine
// similarity of embeddings); 0 turns either off.
func (e *env) reuse() reuse.Settings {
	def := "off"
	if reuse.DefaultExact {
		def = "on"
	}
	on := e.oneOf("FEEDBACK_REUSE", def, "on", "off") == "on"
	near := e.float("FEEDBACK_REUSE_NEAR", reuse.DefaultNear, 0, 1)
	semantic := e.float("FEEDBACK_REUSE_SEMANTIC", reuse.DefaultSemantic, 0, 1)
	if !on {
		for key, v := range map[string]float64{"FEEDBACK_REUSE_NEAR": near, "FEEDBACK_REUSE_SEMANTIC": semantic} {
			if v > 0 {
				e.errs = append(e.errs, fmt.Errorf("%s is set but FEEDBACK_REUSE is off, which reuses nothing: unset one of them", key))
			}
		}
		return reuse.Settings{}
	}
	return reuse.Settings{Exact: true, Near: near, Semantic: semantic}
}

// replicas reads the read replicas' URLs (a secret, as DATABASE_URL is)
// and their max lag.
func (e *env) replicas() ([]string, time.Duration) {
	urls := e.list("DATABASE_REPLICA_URLS")
	for i, u := range urls {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") || p.Host == "" {
			// Not the value: it may hold a password.
			e.errs = append(e.errs, fmt.Errorf("DATABASE_REPLICA_URLS: replica %d of %d must be a URL such as postgres://user@host:5432/name?sslmode=disable", i+1, len(urls)))
		}
	}
	return urls, e.duration("DATABASE_REPLICA_MAX_LAG", replicas.DefaultMaxLag)
}

// limits reads the limits of the GraphQL API (docs/configuration.md: Limits).
func (e *env) limits() graph.Limits {
	return graph.Limits{
		MaxBodyBytes:        int64(e.integer("MAX_BODY_BYTES", graph.DefaultMaxBodyBytes, 1024, 1<<30)),
		MaxDepth:            e.integer("MAX_QUERY_DEPTH", graph.DefaultMaxDepth, 2, 100),
		MaxComplexity:       e.integer("MAX_QUERY_COMPLEXITY", graph.DefaultMaxComplexity, 10, 10_000_000),
		MaxWebsocketMessage: int64(e.integer("MAX_WS_MESSAGE_BYTES", graph.DefaultMaxWebsocketMessage, 1024, 1<<30)),
		MaxExecutionTime:    e.duration("MAX_EXECUTION_TIME", graph.DefaultMaxExecutionTime),

		MaxRootFields:            e.integer("MAX_ROOT_FIELDS", graph.DefaultMaxRootFields, 1, 10_000),
		MaxSubmissionsPerRequest: e.integer("MAX_SUBMISSIONS_PER_REQUEST", graph.DefaultMaxSubmissionsPerRequest, 1, 1000),
		MaxResponseBytes:         e.integer("MAX_RESPONSE_BYTES", graph.DefaultMaxResponseBytes, 1024, 1<<30),
		DisableIntrospection:     !e.boolean("GRAPHQL_INTROSPECTION", true),
		Document: doclimit.Limits{
			MaxTokens:                e.integer("MAX_QUERY_TOKENS", doclimit.DefaultMaxTokens, 100, 1_000_000),
			MaxFields:                e.integer("MAX_QUERY_FIELDS", doclimit.DefaultMaxFields, 10, 100_000),
			MaxFieldsPerResponseName: e.integer("MAX_FIELDS_PER_RESPONSE_NAME", doclimit.DefaultMaxFieldsPerResponseName, 1, 10_000),
			MaxDirectives:            e.integer("MAX_QUERY_DIRECTIVES", doclimit.DefaultMaxDirectives, 1, 10_000),
		},

		MaxWebsocketConnections:          e.integer("MAX_WS_CONNECTIONS", graph.DefaultMaxWebsocketConnections, 1, 10_000_000),
		MaxWebsocketConnectionsPerClient: e.integer("MAX_WS_CONNECTIONS_PER_CLIENT", graph.DefaultMaxWebsocketConnectionsPerClient, 1, 10_000_000),
		MaxSubscriptionsPerConnection:    e.integer("MAX_SUBSCRIPTIONS_PER_CONNECTION", graph.DefaultMaxSubscriptionsPerConnection, 1, 100_000),
		MaxWebsocketQueuedMessages:       e.integer("MAX_WS_QUEUED_MESSAGES", graph.DefaultMaxWebsocketQueuedMessages, 1, 1_000_000),
	}
}

// rateLimit reads the budgets kept in Redis (docs/configuration.md: Budgets).
func (e *env) rateLimit() ratelimit.Config {
	return ratelimit.Config{
		Points:                e.integer("RATE_LIMIT_POINTS", ratelimit.DefaultPoints, 1, 1_000_000_000),
		Window:                e.duration("RATE_LIMIT_WINDOW", ratelimit.DefaultWindow),
		SubmissionsPerClient:  e.integer("SUBMISSION_LIMIT_PER_CLIENT", ratelimit.DefaultSubmissionsPerClient, 1, 1_000_000_000),
		SubmissionsPerProject: e.integer("SUBMISSION_LIMIT_PER_PROJECT", ratelimit.DefaultSubmissionsPerProject, 1, 1_000_000_000),
		CommentsPerMinute:     e.integer("COMMENT_LIMIT_PER_MINUTE", ratelimit.DefaultCommentsPerMinute, 1, 1_000_000),
		Prefix:                e.str("RATE_LIMIT_PREFIX", ratelimit.DefaultPrefix),
	}
}

// redis reads the Redis topology: REDIS_URL (the default), or Sentinel, or
// Cluster, exactly one. The data nodes' credentials and database of Sentinel
// and Cluster come from REDIS_USERNAME, REDIS_PASSWORD and REDIS_DB, since
// there is no URL to carry them (a Cluster has database 0 only). Secrets:
// REDIS_URL (it may hold a password), REDIS_PASSWORD and
// REDIS_SENTINEL_PASSWORD. Every setting is read whatever the topology, so
// one given to the wrong topology is reported rather than ignored.
func (e *env) redis() redisconn.Options {
	o := redisconn.Options{
		URL:              e.str("REDIS_URL", ""),
		SentinelAddrs:    e.list("REDIS_SENTINEL_ADDRS"),
		SentinelMaster:   e.str("REDIS_SENTINEL_MASTER", ""),
		SentinelPassword: e.str("REDIS_SENTINEL_PASSWORD", ""),
		ClusterAddrs:     e.list("REDIS_CLUSTER_ADDRS"),
		Username:         e.str("REDIS_USERNAME", ""),
		Password:         e.str("REDIS_PASSWORD", ""),
		DB:               e.integer("REDIS_DB", 0, 0, 1<<20),
	}
	var set []string
	for name, given := range map[string]bool{"REDIS_URL": o.URL != "", "REDIS_SENTINEL_ADDRS": len(o.SentinelAddrs) > 0, "REDIS_CLUSTER_ADDRS": len(o.ClusterAddrs) > 0} {
		if given {
			set = append(set, name)
		}
	}
	slices.Sort(set)
	if len(set) > 1 {
		e.errs = append(e.errs, fmt.Errorf("%s are set: name one Redis topology only (REDIS_URL, REDIS_SENTINEL_ADDRS or REDIS_CLUSTER_ADDRS)", strings.Join(set, " and ")))
		return o
	}
	if len(set) == 0 {
		o.URL = defaultRedisURL
	}
	for _, key := range []string{"REDIS_SENTINEL_ADDRS", "REDIS_CLUSTER_ADDRS"} {
		for _, addr := range e.list(key) {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				e.fail(key, "comma-separated host:port addresses", addr)
			}
		}
	}
	sentinel := len(o.SentinelAddrs) > 0
	switch {
	case sentinel && o.SentinelMaster == "":
		e.errs = append(e.errs, errors.New("REDIS_SENTINEL_ADDRS is set without REDIS_SENTINEL_MASTER: name the master the Sentinels watch (their `sentinel monitor` name)"))
	case !sentinel && (o.SentinelMaster != "" || o.SentinelPassword != ""):
		e.errs = append(e.errs, errors.New("REDIS_SENTINEL_MASTER or REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINEL_ADDRS: set the Sentinels' addresses too, or unset them"))
	}
	switch {
	case o.DB != 0 && len(o.ClusterAddrs) > 0:
		e.fail("REDIS_DB", "0 with REDIS_CLUSTER_ADDRS (a Redis Cluster has database 0 only)", strconv.Itoa(o.DB))
	case o.DB != 0 && !sentinel:
		e.errs = append(e.errs, errors.New("REDIS_DB is set with REDIS_URL: give the database as the URL's path (redis://host:port/DB) instead"))
	}
	return o
}

// listenAddr reads HOST and PORT. Open mode listens on loopback only,
// unless HOST says otherwise.
func (e *env) listenAddr(open bool) string {
	host := e.str("HOST", "")
	if host == "" {
		host = "0.0.0.0"
		if open {
			host = "127.0.0.1"
		}
	}
	port := e.str("PORT", defaultPort)
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		e.fail("PORT", "a TCP port number", port)
	}
	return net.JoinHostPort(host, port)
}

// tls reads the certificate and key files; they go together. The files
// themselves are read at start (tlscert.New), not here.
func (e *env) tls() (certFile, keyFile string) {
	certFile, keyFile = e.str("TLS_CERT_FILE", ""), e.str("TLS_KEY_FILE", "")
	switch {
	case certFile != "" && keyFile == "":
		e.errs = append(e.errs, errors.New("TLS_CERT_FILE is set but TLS_KEY_FILE is not: set both to serve HTTPS, or neither for plain HTTP"))
	case certFile == "" && keyFile != "":
		e.errs = append(e.errs, errors.New("TLS_KEY_FILE is set but TLS_CERT_FILE is not: set both to serve HTTPS, or neither for plain HTTP"))
	case certFile != "" && strings.Contains(e.getenv("GODEBUG"), "http2xconnect=1"):
		// Browsers would then open websockets over HTTP/2 (RFC 8441), and
		// the subscriptions' websocket library speaks HTTP/1.1 only.
		e.errs = append(e.errs, errors.New("GODEBUG=http2xconnect=1 makes browsers open websockets over HTTP/2, which /query's subscriptions do not serve: remove it from GODEBUG"))
	}
	return certFile, keyFile
}

// logging reads LOG_LEVEL and LOG_FORMAT: text on a terminal, JSON for log
// collectors, unless told.
func (e *env) logging(stderr io.Writer) (slog.Level, string) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(e.str("LOG_LEVEL", "info"))); err != nil {
		e.fail("LOG_LEVEL", "debug, info, warn or error", e.getenv("LOG_LEVEL"))
	}
	format := e.oneOf("LOG_FORMAT", "", "json", "text")
	if format == "" {
		format = "json"
		if isTerminal(stderr) {
			format = "text"
		}
	}
	return level, format
}

// llm reads the model provider's settings; "builtin" means the built-in
// rules.
func (e *env) llm(limits func(provider string) llmlimit.Config) llm.Config {
	names := []string{defaultProvider}
	for _, p := range llm.Providers {
		names = append(names, p.Name)
	}
	provider := e.oneOf("LLM_PROVIDER", defaultProvider, names...)
	p, _ := llm.ProviderNamed(provider)
	cfg := llm.Config{
		Provider:       provider,
		Model:          e.str("LLM_MODEL", p.DefaultModel),
		Timeout:        e.duration("LLM_TIMEOUT", llm.DefaultTimeout),
		MaxAttempts:    e.integer("LLM_MAX_ATTEMPTS", llm.DefaultMaxAttempts, 1, 20),
		Temperature:    e.float("LLM_TEMPERATURE", llm.DefaultTemperature, 0, 2),
		MaxPromptChars: e.integer("LLM_MAX_PROMPT_CHARS", analysis.DefaultMaxPromptChars, analysis.MinPromptChars, 10_000_000),
	}
	cfg.Limits = limits(provider)
	if p.BaseURLVar != "" {
		cfg.BaseURL = e.str(p.BaseURLVar, p.DefaultBaseURL)
	}
	if p.APIKeyVar != "" {
		cfg.APIKey = e.str(p.APIKeyVar, "")
	}
	return cfg
}

// providerLimits reads the provider accounts' limits, shared by every
// worker; 0 is none. It returns the limits of each provider.
func (e *env) providerLimits() func(provider string) llmlimit.Config {
	rpm := e.perProvider("LLM_MAX_RPM", 0, 100_000_000)
	tpm := e.perProvider("LLM_MAX_TPM", 0, 1_000_000_000)
	return func(provider string) llmlimit.Config {
		return llmlimit.Config{RPM: rpm(provider), TPM: tpm(provider)}
	}
}

// llmFallback reads LLM_FALLBACK, a list of provider or provider:model
// entries: a provider's model defaults to its default model, its key, URL
// and limits come from its own settings, the rest (timeout, attempts) from
// the primary's.
func (e *env) llmFallback(primary llm.Config, limits func(provider string) llmlimit.Config) ([]llm.Config, int, time.Duration) {
	return e.llmList("LLM_FALLBACK", primary, limits), e.integer("LLM_BREAKER_FAILURES", fallback.DefaultFailures, 1, 1000),
		e.duration("LLM_BREAKER_TIMEOUT", fallback.DefaultOpenTimeout)
}

// llmList reads key, a list of provider or provider:model entries: a
// provider's model defaults to its default model, its key, URL and limits
// come from its own settings, the rest (timeout, attempts) from the
// primary's.
func (e *env) llmList(key string, primary llm.Config, limits func(provider string) llmlimit.Config) []llm.Config {
	var out []llm.Config
	for _, entry := range e.list(key) {
		name, model, _ := strings.Cut(entry, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		cfg := primary
		cfg.Provider, cfg.Model, cfg.BaseURL, cfg.APIKey = name, strings.TrimSpace(model), "", ""
		if name != defaultProvider {
			p, ok := llm.ProviderNamed(name)
			if !ok {
				names := []string{defaultProvider}
				for _, p := range llm.Providers {
					names = append(names, p.Name)
				}
				e.fail(key, "a list of "+strings.Join(names, ", ")+" (optionally provider:model)", entry)
				continue
			}
			if cfg.Model == "" {
				cfg.Model = p.DefaultModel
			}
			// Each provider account has its own limits.
			own := limits(name)
			cfg.Limits.RPM, cfg.Limits.TPM = own.RPM, own.TPM
			if p.BaseURLVar != "" {
				cfg.BaseURL = e.str(p.BaseURLVar, p.DefaultBaseURL)
			}
			if p.APIKeyVar != "" {
				cfg.APIKey = e.str(p.APIKeyVar, "")
			}
		}
		out = append(out, cfg)
	}
	return out
}

// comparisons reads COMPARE_PROVIDERS and COMPARE_SAMPLE_RATE: the models
// compareAnalyses may name are the primary, the fallbacks and
// COMPARE_PROVIDERS; sampled feedback is compared against
// COMPARE_PROVIDERS.
func (e *env) comparisons(primary llm.Config, fallbacks []llm.Config, limits func(provider string) llmlimit.Config) ([]llm.Config, compare.Settings) {
	extra := e.llmList("COMPARE_PROVIDERS", primary, limits)
	var s compare.Settings
	var models []llm.Config
	for i, c := range append(append([]llm.Config{primary}, fallbacks...), extra...) {
		t := compare.Target{Provider: c.Provider, Model: c.Model}
		if c.Provider == defaultProvider {
			t.Model = rules.New().Model()
		}
		if i > len(fallbacks) && !slices.Contains(s.Sampled, t) {
			s.Sampled = append(s.Sampled, t)
		}
		if !slices.Contains(s.Targets, t) {
			s.Targets = append(s.Targets, t)
			models = append(models, c)
		}
	}
	s.SampleRate = e.float("COMPARE_SAMPLE_RATE", 0, 0, 1)
	if s.SampleRate > 0 && len(s.Sampled) == 0 {
		e.errs = append(e.errs, errors.New("COMPARE_SAMPLE_RATE needs COMPARE_PROVIDERS: the models sampled feedback is compared against (provider or provider:model, comma-separated)"))
	}
	return models, s
}

// llmSpend reads the price table and the projects' monthly budget. The
// built-in table (llm.DefaultPrices) is in USD, so another currency needs
// LLM_PRICES; LLM_PRICES replaces the built-in table, it does not add to
// it. A budget needs a price for every model it limits: an analysis
// without a cost would not count toward it.
func (e *env) llmSpend(models []llm.Config) (spend.Prices, spend.Budget) {
	currency := strings.ToUpper(e.str("LLM_PRICE_CURRENCY", spend.DefaultCurrency))
	if len(currency) != 3 || strings.Trim(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		e.fail("LLM_PRICE_CURRENCY", "a three-letter currency code such as USD or EUR", currency)
	}
	prices := llm.DefaultPrices()
	if raw := e.str("LLM_PRICES", ""); raw != "" {
		parsed, err := spend.ParsePrices(raw)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("LLM_PRICES: %w", err))
		}
		var names []string
		for _, p := range llm.Providers {
			names = append(names, p.Name)
		}
		for k := range parsed {
			if _, ok := llm.ProviderNamed(k.Provider); !ok {
				e.errs = append(e.errs, fmt.Errorf("LLM_PRICES: %s:%s names no model provider (%s)", k.Provider, k.Model, strings.Join(names, ", ")))
			}
		}
		prices = parsed
	} else if currency != spend.DefaultCurrency {
		e.errs = append(e.errs, fmt.Errorf("LLM_PRICE_CURRENCY=%s needs LLM_PRICES: the built-in prices are in %s", currency, spend.DefaultCurrency))
	}
	budget := spend.Budget{Currency: currency, Monthly: e.float("LLM_PROJECT_MONTHLY_BUDGET", 0, 0, 1e12)}
	if budget.Monthly > 0 {
		for _, m := range models {
			if m.Provider != defaultProvider && !prices.Has(m.Provider, m.Model) {
				e.errs = append(e.errs, fmt.Errorf("LLM_PROJECT_MONTHLY_BUDGET needs a price for every model it limits, and %s:%s has none: add %s:%s=INPUT/OUTPUT (per million tokens) to LLM_PRICES",
					m.Provider, m.Model, m.Provider, m.Model))
			}
		}
	}
	return prices, budget
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
