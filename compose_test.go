package main

import (
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// composeService is the part of the Compose file format docker-compose.yml
// uses. Unknown keys are an error, so that a misspelt one (which Compose
// would reject, and no test here can run Compose) fails here too.
type composeService struct {
	Image       string            `yaml:"image"`
	Build       string            `yaml:"build"`
	Restart     string            `yaml:"restart"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	EnvFile     []struct {
		Path     string `yaml:"path"`
		Required *bool  `yaml:"required"`
	} `yaml:"env_file"`
	Volumes     []string `yaml:"volumes"`
	Ports       []string `yaml:"ports"`
	ExtraHosts  []string `yaml:"extra_hosts"`
	Healthcheck *struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		Retries     int      `yaml:"retries"`
		StartPeriod string   `yaml:"start_period"`
	} `yaml:"healthcheck"`
	StopGracePeriod string `yaml:"stop_grace_period"`
	DependsOn       map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.UnmarshalWithOptions(raw, &f, yaml.DisallowUnknownField()); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(f.Services) == 0 {
		t.Fatal("docker-compose.yml has no services")
	}
	return f
}

// passThrough matches a value taken from the user's environment:
// ${NAME} or ${NAME:-default}.
var passThrough = regexp.MustCompile(`^\$\{([A-Z0-9_]+)(?::-(.*))?\}$`)

// providerSettings lists what the configuration reads to talk to a model:
// every LLM_ variable, and whatever a provider reads that the built-in
// analyzer does not. It asks loadConfig itself, so a new setting cannot be
// forgotten here. NAME_FILE variants are left out: a path in the user's
// shell means nothing inside a container (a Compose secret would be mounted
// and named in the file itself).
func providerSettings(t *testing.T) []string {
	t.Helper()
	builtin := settingsRead("builtin")
	var names []string
	for k := range builtin {
		if strings.HasPrefix(k, "LLM_") {
			names = append(names, k)
		}
	}
	for _, p := range providerNames() {
		for k := range settingsRead(p) {
			if !builtin[k] && !slices.Contains(names, k) && !strings.HasSuffix(k, "_FILE") {
				names = append(names, k)
			}
		}
	}
	slices.Sort(names)
	if len(names) < 10 {
		t.Fatalf("found only %v: has loadConfig changed how it reads settings?", names)
	}
	return names
}

func TestComposeServicesRestartAndReportHealth(t *testing.T) {
	for name, s := range readCompose(t).Services {
		switch s.Restart {
		case "always", "unless-stopped", "on-failure":
		default:
			t.Errorf("%s: restart is %q, want a policy that restarts it", name, s.Restart)
		}
		if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 || s.Healthcheck.Test[0] != "CMD" {
			t.Errorf("%s: no healthcheck command (want test: [\"CMD\", ...])", name)
		}
		grace, err := time.ParseDuration(s.StopGracePeriod)
		if err != nil {
			t.Errorf("%s: stop_grace_period %q: %v", name, s.StopGracePeriod, err)
			continue
		}
		// Docker kills the container when the grace period ends: the
		// service's own shutdown must fit in it.
		if v, ok := s.Environment["SHUTDOWN_TIMEOUT"]; ok {
			shutdown, err := time.ParseDuration(v)
			if err != nil {
				t.Errorf("%s: SHUTDOWN_TIMEOUT %q: %v", name, v, err)
			} else if grace <= shutdown {
				t.Errorf("%s: stop_grace_period %v must exceed SHUTDOWN_TIMEOUT %v", name, grace, shutdown)
			}
		}
	}
}

func TestComposeRunsTheServiceAsDocumented(t *testing.T) {
	f := readCompose(t)
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	settings := providerSettings(t)
	roles := map[string]bool{}
	for name, s := range f.Services {
		if s.Build == "" {
			continue // PostgreSQL and Redis
		}
		env := s.Environment
		roles[env["ROLE"]] = true
		// The image has no shell or curl; the binary checks itself.
		if s.Healthcheck == nil || !slices.Equal(s.Healthcheck.Test, []string{"CMD", "/feedbackloop", "healthcheck"}) ||
			!strings.Contains(string(dockerfile), `ENTRYPOINT ["/feedbackloop"]`) {
			t.Errorf("%s: healthcheck should run the image's /feedbackloop healthcheck", name)
		}
		if env["HOST"] != "0.0.0.0" {
			t.Errorf("%s: HOST = %q, want 0.0.0.0 (loopback is unreachable from outside the container)", name, env["HOST"])
		}
		if env["PORT"] == "" || env["DATABASE_URL"] == "" || env["REDIS_URL"] == "" {
			t.Errorf("%s: PORT, DATABASE_URL and REDIS_URL must be set", name)
		}
		for _, dep := range []string{"postgres", "redis"} {
			if s.DependsOn[dep].Condition != "service_healthy" {
				t.Errorf("%s: should wait for %s to be healthy", name, dep)
			}
		}
		for _, k := range settings {
			if !passThrough.MatchString(env[k]) || passThrough.FindStringSubmatch(env[k])[1] != k {
				t.Errorf("%s: %s = %q, want it passed through from the user's environment as ${%s:-...}", name, k, env[k], k)
			}
		}
		// The default Ollama address must not be the container itself.
		if m := passThrough.FindStringSubmatch(env["OLLAMA_URL"]); m != nil {
			u, err := url.Parse(m[2])
			if err != nil || u.Hostname() == "" {
				t.Errorf("%s: OLLAMA_URL default %q is not a URL", name, m[2])
			} else if h := u.Hostname(); h == "localhost" || h == "127.0.0.1" || h == "::1" {
				t.Errorf("%s: OLLAMA_URL defaults to %s, which inside a container is the container itself", name, h)
			} else if h == "host.docker.internal" && env["ROLE"] != "api" &&
				!slices.Contains(s.ExtraHosts, "host.docker.internal:host-gateway") {
				t.Errorf("%s: calls the model at host.docker.internal but lacks extra_hosts host.docker.internal:host-gateway (Linux has no such name otherwise)", name)
			}
		}
		if env["ROLE"] == "api" {
			// Several replicas cannot share one host port.
			if len(s.Ports) != 1 || !regexp.MustCompile(`^"?\d+-\d+:`+regexp.QuoteMeta(env["PORT"])+`$`).MatchString(s.Ports[0]) {
				t.Errorf("%s: ports %q, want one host port range mapped to PORT %s, so that --scale works", name, s.Ports, env["PORT"])
			}
			if len(s.EnvFile) != 1 || s.EnvFile[0].Path != ".env" {
				t.Errorf("%s: env_file should be .env (secrets: see .env.example)", name)
			}
		}
	}
	if !roles["api"] || !roles["worker"] {
		t.Errorf("want an api and a worker service, found roles %v", roles)
	}
}

func TestEnvExampleNamesTheSecretsAndStaysOutOfGitAndImages(t *testing.T) {
	example, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ADMIN_API_KEY", "JWT_SECRET"} {
		if !regexp.MustCompile(`(?m)^` + k + `=`).Match(example) {
			t.Errorf(".env.example lacks a %s= line", k)
		}
	}
	for _, file := range []string{".gitignore", ".dockerignore"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^/?\.env$`).Match(b) {
			t.Errorf("%s does not exclude .env, which holds secrets", file)
		}
	}
}
