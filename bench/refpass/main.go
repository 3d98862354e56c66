// Command refpass is the benchmarks' reference: one SHA-256 pass over a file
// (refpass -hash f) or one copy of it (refpass -copy f g), with the same
// crypto/sha256 and buffer size Signet uses, so that ratios compare Signet's
// work with the least work the task needs.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
)

const bufSize = 1 << 20

func main() {
	hash := flag.Bool("hash", false, "hash the file with SHA-256")
	cp := flag.Bool("copy", false, "copy the first file to the second")
	flag.Parse()
	if err := run(*hash, *cp, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "refpass:", err)
		os.Exit(1)
	}
}

func run(hash, cp bool, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no file")
	}
	in, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer in.Close()
	buf := make([]byte, bufSize)
	switch {
	case hash:
		h := sha256.New()
		if _, err := io.CopyBuffer(h, in, buf); err != nil {
			return err
		}
		fmt.Printf("%x\n", h.Sum(nil))
	case cp && len(args) == 2:
		out, err := os.Create(args[1])
		if err != nil {
			return err
		}
		if _, err := io.CopyBuffer(out, in, buf); err != nil {
			out.Close()
			return err
		}
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	default:
		return fmt.Errorf("want -hash <file> or -copy <from> <to>")
	}
	return nil
}
