package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// progress draws a one-line progress bar on a terminal, and nothing when the
// output is not one (a pipe, a file, CI), so logs stay clean.
type progress struct {
	w     io.Writer
	total int
	done  int
	on    bool
	width int
}

// minProgressItems is the smallest batch worth a progress bar: below it the
// results print faster than the bar would be read.
const minProgressItems = 4

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, width: 80}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && total >= minProgressItems {
		p.on = true
		if wd, _, err := term.GetSize(int(f.Fd())); err == nil && wd > 20 {
			p.width = wd
		}
	}
	return p
}

// step records one more item done, named name.
func (p *progress) step(name string) {
	p.done++
	if !p.on {
		return
	}
	const barWidth = 24
	filled := barWidth * p.done / p.total
	line := fmt.Sprintf("[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), p.done, p.total, name)
	if len(line) > p.width-1 {
		line = line[:p.width-1]
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

// clear removes the bar before other output is printed.
func (p *progress) clear() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
