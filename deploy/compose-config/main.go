// compose-config loads a Compose file with the Compose specification's own loader
// (github.com/compose-spec/compose-go/v2, pinned in go.mod), as `docker compose config`
// does, and prints the resolved project as JSON: variables interpolated, profiles applied,
// defaults filled in, each service's environment resolved. No Docker engine is needed.
//
//	compose-config [-profile NAME]... [-env NAME=VALUE]... FILE
//
// The environment is exactly the -env pairs given: neither this process's environment nor
// an .env file beside FILE is read, so a check sees the project it asked for. Services
// outside the active profiles are left out, as `docker compose` leaves them out.
//
// A file the loader refuses (a schema error, a `${NAME:?message}` whose NAME is unset, a
// dependency on a service that is not there) is an error: it goes to stderr and the exit
// status is 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

// repeated is a flag given any number of times.
type repeated []string

func (r *repeated) String() string { return strings.Join(*r, ",") }

func (r *repeated) Set(value string) error {
	*r = append(*r, value)
	return nil
}

func main() {
	var profiles, env repeated
	flag.Var(&profiles, "profile", "a profile to enable (repeatable)")
	flag.Var(&env, "env", "NAME=VALUE for interpolation and environment resolution (repeatable)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: compose-config [-profile NAME]... [-env NAME=VALUE]... FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	for _, pair := range env {
		if !strings.Contains(pair, "=") {
			fail(2, "-env %q is not NAME=VALUE", pair)
		}
	}
	options, err := cli.NewProjectOptions(
		[]string{flag.Arg(0)},
		cli.WithEnv(env),
		cli.WithProfiles(profiles),
	)
	if err != nil {
		fail(2, "%v", err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(1, "%v", err)
	}
	resolved, err := project.MarshalJSON()
	if err != nil {
		fail(2, "writing the project as JSON: %v", err)
	}
	if _, err := os.Stdout.Write(append(resolved, '\n')); err != nil {
		fail(2, "writing stdout: %v", err)
	}
}

func fail(status int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compose-config: "+format+"\n", args...)
	os.Exit(status)
}
