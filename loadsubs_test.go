package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The load tool (cmd/loadsubs) sets up a project with members, connects
// and subscribes them across client processes with tokens, times the
// deliveries and reads the server's memory, CPU time and fan-out metric.
func TestLoadToolMeasuresDelivery(t *testing.T) {
	secret := "a-secret-for-the-load-tool-test-0123456789"
	base, logs := startServer(t, map[string]string{"JWT_SECRET": secret, "ROLE": "api", "METRICS_ADDR": "127.0.0.1:0"})
	metricsAddr := ""
	for _, line := range strings.Split(logs.String(), "\n") {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "serving metrics" {
			metricsAddr = l.Addr
		}
	}
	if metricsAddr == "" {
		t.Fatalf("no metrics address in the log:\n%s", logs.String())
	}
	cmd := exec.Command("go", "run", "./cmd/loadsubs", "-url", base, "-subscribers", "50", "-workers", "2",
		"-samples", "3", "-interval", "50ms", "-settle", "100ms", "-selection", "status",
		"-server-pid", strconv.Itoa(os.Getpid()), "-metrics-url", "http://"+metricsAddr+"/metrics")
	cmd.Env = append(os.Environ(), "JWT_SECRET="+secret)
	expectOutput(t, cmd,
		"connected 50 of 50 subscribers over 2 client processes",
		"(3 users, 20 connections each)",
		"over 3 samples x 50 subscribers",
		"missed 0",
		"KiB resident per connection",
		"server CPU per event",
		"handing one event to every socket took",
		"| 50 | status |",
	)
}

// expectOutput runs the load tool and checks that what it printed holds
// every one of wants.
func expectOutput(t *testing.T, cmd *exec.Cmd, wants ...string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("loadsubs: %v\n%s", err, out)
	}
	for _, want := range wants {
		if !strings.Contains(string(out), want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
}

// The load tool's floor server, which bench/subs.sh measures beside the
// service, delivers every event to every subscriber through the same
// clients: its figures are a baseline only if it misses nothing.
func TestLoadToolMeasuresTheFloor(t *testing.T) {
	bin := t.TempDir() + "/loadsubs"
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/loadsubs").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	server := exec.Command(bin, "floor-server", addr)
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Process.Kill(); _ = server.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the floor server is not listening: %v", err)
		}
	}

	expectOutput(t, exec.Command(bin, "-peer", "floor", "-url", "http://"+addr, "-subscribers", "30", "-workers", "2",
		"-samples", "3", "-interval", "50ms", "-settle", "100ms", "-server-pid", strconv.Itoa(server.Process.Pid)),
		"connected 30 of 30 subscribers over 2 client processes",
		"over 3 samples x 30 subscribers",
		"missed 0",
		"KiB resident per connection",
		"server CPU per event",
		"| 30 | feedback |",
	)
}
