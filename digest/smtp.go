package digest

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Mailer sends one rendered message to one address.
type Mailer interface {
	Send(ctx context.Context, to string, m Message) error
}

// SMTP sends over SMTP, one connection per message (digests are few and
// far between).
type SMTP struct {
	from     string
	host     string
	port     int
	ssl      bool
	user     string
	password string
	hasAuth  bool
}

// sendTimeout bounds one message's connection and transaction.
const sendTimeout = 30 * time.Second

// ParseSMTP reads SMTP_URL and SMTP_FROM: smtp://[user:pass@]host[:port]
// (port 587 by default; STARTTLS when the server offers it, required when
// the URL carries credentials) or smtps://…[:465] (TLS from the start).
// Errors never repeat the URL: it may hold a password.
func ParseSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("is not a URL: give smtp://user:password@host:587 or smtps://user:password@host:465")
	}
	s := &SMTP{host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.ssl = 465, true
	default:
		return nil, fmt.Errorf("has scheme %q: give smtp:// (STARTTLS) or smtps:// (TLS)", u.Scheme)
	}
	if s.host == "" {
		return nil, errors.New("names no host: give smtp://user:password@host:587")
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port < 1 || s.port > 65535 {
			return nil, errors.New("has a port that is not a number from 1 to 65535")
		}
	}
	if u.User != nil {
		s.hasAuth = true
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("needs SMTP_FROM, the sender's address (such as \"Feedback Loop <digests@example.com>\"): %q is not one", from)
	}
	s.from = a.String()
	return s, nil
}

// Send sends m to the address to as multipart/alternative (text, HTML).
func (s *SMTP) Send(ctx context.Context, to string, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("SMTP_FROM: %w", err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("digest address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)

	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(sendTimeout)}
	switch {
	case s.ssl:
		opts = append(opts, gomail.WithSSL())
	case s.hasAuth:
		// Never send a password in the clear.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.hasAuth {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.user), gomail.WithPassword(s.password))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	return c.DialAndSendWithContext(ctx, msg)
}
