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
	short     map[string]string // long name → short alias
}

func newFlagSet(name, usageLine string, stderr io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &flagSet{FlagSet: fs, usageLine: usageLine}
	fs.Usage = func() { f.printUsage(stderr) }
	return f
}

// alias makes short another name of the flag long.
func (f *flagSet) alias(short, long string) {
	fl := f.Lookup(long)
	f.Var(fl.Value, short, aliasPrefix+long)
	if f.short == nil {
		f.short = map[string]string{}
	}
	f.short[long] = short
}

const aliasPrefix = "alias of --"

// printUsage prints the usage line and the options in dotnet's style:
// "-o, --output <value>", aliases folded into their long names.
func (f *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\nOptions:\n", f.usageLine)
	f.VisitAll(func(fl *flag.Flag) {
		if strings.HasPrefix(fl.Usage, aliasPrefix) {
			return
		}
		name := "--" + fl.Name
		if s, ok := f.short[fl.Name]; ok {
			name = "-" + s + ", " + name
		}
		arg, usage := flag.UnquoteUsage(fl)
		if arg != "" && arg != "value" {
			name += " <" + arg + ">"
		} else if arg == "value" {
			name += " <value>"
		}
		def := ""
		if fl.DefValue != "" && fl.DefValue != "false" && fl.DefValue != "[]" && fl.DefValue != "0s" {
			def = fmt.Sprintf(" (default %s)", fl.DefValue)
		}
		fmt.Fprintf(w, "  %-34s %s%s\n", name, usage, def)
	})
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
