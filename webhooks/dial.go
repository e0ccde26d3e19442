package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrPrivateAddress is a connection refused because the address it would
// reach is loopback, private, link-local or otherwise not public.
var ErrPrivateAddress = errors.New("webhook: refusing to connect to a non-public address (set WEBHOOK_ALLOW_PRIVATE=true to allow it)")

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Public reports whether a webhook may be delivered to addr: not loopback,
// private (RFC 1918, fc00::/7), link-local, unspecified, multicast, CGNAT
// or an IPv4-mapped IPv6 form of any of those.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap()
	return addr.IsValid() && !addr.IsLoopback() && !addr.IsPrivate() && !addr.IsLinkLocalUnicast() &&
		!addr.IsLinkLocalMulticast() && !addr.IsInterfaceLocalMulticast() && !addr.IsMulticast() &&
		!addr.IsUnspecified() && !cgnat.Contains(addr)
}

// control is the dialer's hook: it runs after DNS resolution, on the very
// address being connected to, so a name that resolves (or re-resolves, DNS
// rebinding) to a private address is refused.
func control(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: unexpected address %q: %w", address, err)
	}
	if !Public(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, ap.Addr())
	}
	return nil
}

// Timeout bounds one delivery attempt, connecting to reading the answer.
const Timeout = 10 * time.Second

// NewClient returns the HTTP client deliveries use. Unless allowPrivate, its
// dialer refuses non-public addresses (see Public), and so does every
// redirect it follows, since each connects through the same dialer.
func NewClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.ControlContext = control
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would connect for us, past the check
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: Timeout,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("webhook: too many redirects")
			}
			return CheckURL(req.URL.String())
		},
	}
}

// CheckURL refuses what is not an absolute http or https URL with a host:
// the problem, said for the person who typed it.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("must be an http or https URL, not %q", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return errors.New("must name a host, as in https://example.com/hooks")
	case u.User != nil:
		return errors.New("must not carry a user name or password: put secrets in the path or rely on the signature")
	}
	return nil
}
