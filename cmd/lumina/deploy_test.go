package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDeploymentFilesNameKnownVariables checks that the compose file and the example env
// file only set variables the binary reads, and run only commands it has.
func TestDeploymentFilesNameKnownVariables(t *testing.T) {
	known := map[string]bool{}
	for _, o := range (&config{}).options() {
		known[o.env] = true
	}
	// Variables of the third-party images in the compose file.
	for _, v := range []string{"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} {
		known[v] = true
	}
	check := func(file string, re *regexp.Regexp) int {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			n++
			if !known[m[1]] {
				t.Errorf("%s sets %s, which lumina does not read", file, m[1])
			}
		}
		return n
	}
	if n := check("../../infra/docker/docker-compose.yml", regexp.MustCompile(`(?m)^\s+- ([A-Z][A-Z0-9_]+)=`)); n < 5 {
		t.Errorf("found %d variables in the compose file, want the Lumina and database settings", n)
	}
	if n := check("../../.env.docker.example", regexp.MustCompile(`(?m)^([A-Z][A-Z0-9_]+)=`)); n < 4 {
		t.Errorf("found %d variables in .env.docker.example", n)
	}
	compose, _ := os.ReadFile("../../infra/docker/docker-compose.yml")
	for _, m := range regexp.MustCompile(`command: \["([a-z]+)"`).FindAllStringSubmatch(string(compose), -1) {
		if !strings.Contains(usage, "lumina "+m[1]) && m[1] != "redis" && m[1] != "-js" {
			t.Errorf("compose runs lumina %q, which is not a lumina command", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`"--roles", "([a-z]+)"`).FindAllStringSubmatch(string(compose), -1) {
		if _, err := parseRoles(m[1]); err != nil {
			t.Errorf("compose: %v", err)
		}
	}
}
