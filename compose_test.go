package main

import (
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
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
	Profiles    []string          `yaml:"profiles"`
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
		if env["PORT"] == "" || env["DATABASE_URL"] == "" {
			t.Errorf("%s: PORT and DATABASE_URL must be set", name)
		}
		if env["REDIS_URL"] == "" && (env["REDIS_SENTINEL_ADDRS"] == "" || env["REDIS_SENTINEL_MASTER"] == "") {
			t.Errorf("%s: REDIS_URL, or REDIS_SENTINEL_ADDRS with REDIS_SENTINEL_MASTER, must be set", name)
		}
		for _, dep := range connectsTo(t, env) {
			if _, ok := f.Services[dep]; !ok {
				t.Errorf("%s connects to %s, which is not a service", name, dep)
			} else if s.DependsOn[dep].Condition != "service_healthy" {
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

// connectsTo lists the services a process configured by env connects to.
func connectsTo(t *testing.T, env map[string]string) []string {
	t.Helper()
	var hosts []string
	urls := append([]string{env["DATABASE_URL"], env["REDIS_URL"]}, strings.Split(env["DATABASE_REPLICA_URLS"], ",")...)
	for _, raw := range urls {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			t.Errorf("%q is not a URL with a host", raw)
			continue
		}
		hosts = append(hosts, u.Hostname())
	}
	for _, addr := range strings.Split(env["REDIS_SENTINEL_ADDRS"], ",") {
		if addr = strings.TrimSpace(addr); addr == "" {
			continue
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("REDIS_SENTINEL_ADDRS: %q is not host:port", addr)
			continue
		}
		hosts = append(hosts, host)
	}
	return hosts
}

// The scaleout profile is the issue 24 topology, for users to try: a
// PostgreSQL primary and a streaming replica, a Redis master and replica
// under three Sentinels, and an API and a worker using them. It leaves the
// default services as they are.
func TestComposeScaleoutProfile(t *testing.T) {
	f := readCompose(t)
	for _, name := range []string{"postgres", "redis", "api", "worker"} {
		if s, ok := f.Services[name]; !ok || len(s.Profiles) > 0 {
			t.Errorf("%s: want it in the default set, without a profile", name)
		}
	}
	profiled := map[string]bool{}
	for name, s := range f.Services {
		switch {
		case len(s.Profiles) == 0:
		case slices.Equal(s.Profiles, []string{"scaleout"}):
			profiled[name] = true
		default:
			t.Errorf("%s: profiles %v, want [scaleout] or none", name, s.Profiles)
		}
	}
	// Naming the profile's API and worker starts the profile alone.
	for name, s := range f.Services {
		for dep := range s.DependsOn {
			if profiled[name] != profiled[dep] {
				t.Errorf("%s depends on %s: the default services and the scaleout profile must stay apart", name, dep)
			}
		}
	}

	sentinels := map[string]string{} // service: the master name it monitors
	monitor := regexp.MustCompile(`sentinel monitor (\S+) (\S+) 6379 (\d+)`)
	for name, s := range f.Services {
		m := monitor.FindStringSubmatch(strings.Join(s.Command, " "))
		if m == nil {
			continue
		}
		sentinels[name] = m[1]
		if !profiled[m[2]] || f.Services[m[2]].Image == "" {
			t.Errorf("%s monitors %s, which is not a Redis of the profile", name, m[2])
		}
		if q, _ := strconv.Atoi(m[3]); q < 2 {
			t.Errorf("%s: quorum %s: one Sentinel alone could fail the master over", name, m[3])
		}
	}
	roles := map[string]bool{}
	for name, s := range f.Services {
		if !profiled[name] || s.Build == "" {
			continue
		}
		env := s.Environment
		roles[env["ROLE"]] = true
		if env["REDIS_URL"] != "" || env["DATABASE_REPLICA_URLS"] == "" {
			t.Errorf("%s: want Redis through Sentinel only and DATABASE_REPLICA_URLS set", name)
		}
		addrs := strings.Split(env["REDIS_SENTINEL_ADDRS"], ",")
		if len(addrs) != 3 {
			t.Errorf("%s: REDIS_SENTINEL_ADDRS %q, want the three Sentinels", name, env["REDIS_SENTINEL_ADDRS"])
		}
		for _, a := range addrs {
			host, _, _ := net.SplitHostPort(a)
			if master, ok := sentinels[host]; !ok || master != env["REDIS_SENTINEL_MASTER"] {
				t.Errorf("%s: %s does not monitor REDIS_SENTINEL_MASTER %q", name, a, env["REDIS_SENTINEL_MASTER"])
			}
		}
		for _, r := range strings.Split(env["DATABASE_REPLICA_URLS"], ",") {
			u, _ := url.Parse(r)
			replica := strings.Join(f.Services[u.Hostname()].Command, " ")
			primary, _ := url.Parse(env["DATABASE_URL"])
			if !strings.Contains(replica, "pg_basebackup -h "+primary.Hostname()+" ") || !strings.Contains(replica, " -R ") {
				t.Errorf("%s: the replica %s is not a streaming copy of DATABASE_URL's %s (pg_basebackup -R)", name, u.Hostname(), primary.Hostname())
			}
		}
		if env["ROLE"] == "api" && slices.Equal(s.Ports, f.Services["api"].Ports) {
			t.Errorf("%s: publishes the default api's ports %v", name, s.Ports)
		}
	}
	if !roles["api"] || !roles["worker"] {
		t.Errorf("want an api and a worker in the profile, found roles %v", roles)
	}
	// The files it mounts from the repository are there.
	for name, s := range f.Services {
		for _, v := range s.Volumes {
			if src, _, _ := strings.Cut(v, ":"); strings.HasPrefix(src, "./") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			}
		}
	}
}
