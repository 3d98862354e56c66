package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// flagSet wraps flag.FlagSet with what dotnet's command lines need: long
// names with short aliases, and flags mixed freely with positional arguments
// ("signet sign pkg.nupkg --certificate-path x").
type flagSet struct {
	*flag.FlagSet
	usageLine string
}

func newFlagSet(name, usageLine string, stderr io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &flagSet{FlagSet: fs, usageLine: usageLine}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nOptions:\n", f.usageLine)
		fs.PrintDefaults()
	}
	return f
}

// alias makes short another name of the flag long.
func (f *flagSet) alias(short, long string) {
	fl := f.Lookup(long)
	f.Var(fl.Value, short, "alias of --"+long)
}

// parse parses args, letting positional arguments stand between flags. It
// returns the positional arguments, or a non-nil exit code (0 after --help,
// 2 after a usage error).
func (f *flagSet) parse(args []string) ([]string, *int) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			code := 2
			if errors.Is(err, flag.ErrHelp) {
				code = 0
			}
			return nil, &code
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func exitCode(c int) *int { return &c }
