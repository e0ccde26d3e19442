// Package fallback is an Analyzer that tries several analyzers in order:
// when one is failing (its retries used up on errors that may pass, see
// analysis.UnavailableError), the next one answers, and the result says why.
// A circuit breaker per analyzer (sony/gobreaker) stops calling one that
// keeps failing, so jobs do not each wait through its retries, and lets one
// probe through after a while to find out whether it is back.
package fallback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/feedbackloop/feedbackloop/worker/analysis"
)

// Defaults of Config.
const (
	DefaultFailures    = 5
	DefaultOpenTimeout = 30 * time.Second
)

// Config configures the chain.
type Config struct {
	// Analyzers in the order they are tried: the primary first.
	Analyzers []analysis.Analyzer
	// Failures is how many failures in a row open an analyzer's breaker
	// (default DefaultFailures).
	Failures int
	// OpenTimeout is how long an open breaker refuses calls before it lets
	// one probe through (default DefaultOpenTimeout).
	OpenTimeout time.Duration
	Logger      *slog.Logger // optional
}

type link struct {
	analysis.Analyzer
	breaker *gobreaker.CircuitBreaker[analysis.Result]
}

// Chain is the fallback Analyzer.
type Chain struct {
	links  []link
	logger *slog.Logger
}

// New returns the chain of cfg.Analyzers.
func New(cfg Config) (*Chain, error) {
	if len(cfg.Analyzers) == 0 {
		return nil, errors.New("fallback: no analyzer to try")
	}
	if cfg.Failures <= 0 {
		cfg.Failures = DefaultFailures
	}
	if cfg.OpenTimeout <= 0 {
		cfg.OpenTimeout = DefaultOpenTimeout
	}
	c := &Chain{logger: cfg.Logger}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	for _, a := range cfg.Analyzers {
		name := a.Provider()
		c.links = append(c.links, link{Analyzer: a, breaker: gobreaker.NewCircuitBreaker[analysis.Result](gobreaker.Settings{
			Name:        name,
			MaxRequests: 1, // one probe at a time when half-open
			Timeout:     cfg.OpenTimeout,
			ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= uint32(cfg.Failures) },
			// Only the provider's own failures count: a rejected request
			// or an invalid answer says nothing about its health.
			IsSuccessful: func(err error) bool { return err == nil || !analysis.Unavailable(err) },
			// A job cancelled (shutdown, lease lost) is no verdict either,
			// nor one that waits for the provider's turn.
			IsExcluded: func(err error) bool {
				var wait *analysis.WaitError
				return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &wait)
			},
			OnStateChange: func(name string, from, to gobreaker.State) {
				c.logger.Warn("model provider circuit breaker changed state", "provider", name, "from", from.String(), "to", to.String())
			},
		})})
	}
	return c, nil
}

// Provider and Model name the primary: what the chain is meant to use.
func (c *Chain) Provider() string { return c.links[0].Provider() }
func (c *Chain) Model() string    { return c.links[0].Model() }

// Analyze asks each analyzer in turn until one answers. It moves on only
// when an analyzer is unavailable or its breaker is open; any other error
// (a rejected request, an invalid answer, a cancelled job, a wait for the
// provider's turn) is the analysis's outcome, as it would be without a fallback: another provider
// would hide a configuration mistake behind answers of a different model.
func (c *Chain) Analyze(ctx context.Context, req analysis.Request) (analysis.Result, error) {
	var reasons []string
	var last error
	for _, l := range c.links {
		res, err := l.breaker.Execute(func() (analysis.Result, error) { return l.Analyze(ctx, req) })
		switch {
		case err == nil:
			if len(reasons) > 0 {
				res.FallbackReason = strings.Join(reasons, "; ")
				c.logger.InfoContext(ctx, "analysis answered by a fallback provider", "provider", res.Provider, "reason", res.FallbackReason)
			}
			return res, nil
		case ctx.Err() != nil:
			return analysis.Result{}, err
		case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
			last = fmt.Errorf("%s is failing repeatedly and is not called for now", l.Provider())
		case analysis.Unavailable(err):
			last = fmt.Errorf("%s failed: %w", l.Provider(), err)
		default:
			return analysis.Result{}, err
		}
		reasons = append(reasons, last.Error())
	}
	if len(c.links) == 1 {
		return analysis.Result{}, last
	}
	return analysis.Result{}, &analysis.UnavailableError{Err: fmt.Errorf("no model provider could answer: %s", strings.Join(reasons, "; "))}
}
