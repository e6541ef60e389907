package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The usage side of click: --help texts, the "Usage:/Try ... for help."
// lines in front of a usage error, and "Did you mean ...?".

// usageError is a wrong invocation: printed with "Error:" and exit status 2,
// after the usage lines of its command, as click does.
type usageError string

func (e usageError) Error() string { return string(e) }

// bareUsageError is a usage error click prints without the usage lines
// (a missing option value: "Option '--trace-id' requires an argument.").
type bareUsageError string

func (e bareUsageError) Error() string { return string(e) }

// mlflowError is an error whose text is MLflow's own message, kept as
// MLflow words it (capitalised, with its full stop) and printed like any
// other error.
type mlflowError string

func (e mlflowError) Error() string { return string(e) }

// helpError is help printed instead of an error: to stderr, exit status 2
// (click's group invoked without a command).
type helpError string

func (e helpError) Error() string { return string(e) }

// usageContext carries the command ("traces search") whose usage lines
// click prints before a usage error.
type usageContext struct {
	path string
	err  error
}

func (e *usageContext) Error() string { return e.err.Error() }
func (e *usageContext) Unwrap() error { return e.err }

// withUsage attaches path to a usage error; other errors are returned as
// they are.
func withUsage(path string, err error) error {
	var ue usageError
	if errors.As(err, &ue) {
		return &usageContext{path, err}
	}
	return err
}

const prog = "mlflowtrace"

// usageLines are click's lines before "Error: ..." of a usage error.
func usageLines(path string) string {
	args := "[OPTIONS]"
	if path == "traces" {
		args = "[OPTIONS] COMMAND [ARGS]..."
	}
	return fmt.Sprintf("Usage: %s %s %s\nTry '%s %s --help' for help.\n\n", prog, path, args, prog, path)
}

// tracesHelp is `mlflowtrace traces --help`.
func tracesHelp() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s traces [OPTIONS] COMMAND [ARGS]...\n\n", prog)
	b.WriteString("  Manage traces. To manage traces associated with a tracking server, set the\n" +
		"  MLFLOW_TRACKING_URI environment variable to the URL of the desired server.\n\n")
	b.WriteString("Options:\n")
	writeRows(&b, [][2]string{{"--help", "Show this message and exit."}})
	b.WriteString("\nCommands:\n")
	rows := make([][2]string, len(commands))
	for i, c := range commands {
		rows[i] = [2]string{c.name, c.help}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	writeRows(&b, rows)
	return b.String()
}

// commandHelp is `mlflowtrace traces <command> --help`.
func commandHelp(c command, f *flags) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s traces %s [OPTIONS]\n\n  %s\n\nOptions:\n", prog, c.name, c.help)
	var rows [][2]string
	for _, o := range f.opts {
		left := o.names
		if o.metavar != "" {
			left += " " + o.metavar
		}
		help := o.help
		if o.required {
			help = strings.TrimSpace(help + "  [required]")
		}
		rows = append(rows, [2]string{left, help})
	}
	rows = append(rows, [2]string{"--help", "Show this message and exit."})
	writeRows(&b, rows)
	return b.String()
}

// writeRows lays out a definition list as click's HelpFormatter does: a
// first column of at most 30 characters (a longer term gets its text on the
// next line), texts wrapped at 80 columns.
func writeRows(b *strings.Builder, rows [][2]string) {
	const maxFirst, width = 30, 80
	first := 0
	for _, r := range rows {
		if n := len(r[0]); n <= maxFirst {
			first = max(first, n)
		}
	}
	indent := 2 + first + 2
	for _, r := range rows {
		b.WriteString("  " + r[0])
		lines := wrap(r[1], max(width-indent, 20))
		if len(lines) == 0 {
			b.WriteString("\n")
			continue
		}
		if len(r[0]) > maxFirst {
			b.WriteString("\n" + strings.Repeat(" ", indent))
		} else {
			b.WriteString(strings.Repeat(" ", first-len(r[0])+2))
		}
		b.WriteString(lines[0] + "\n")
		for _, l := range lines[1:] {
			b.WriteString(strings.Repeat(" ", indent) + l + "\n")
		}
	}
}

// wrap splits text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	var cur string
	for _, w := range strings.Fields(text) {
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// didYouMean is click's suffix of an unknown option or command:
// " Did you mean '--x'?" or " (Did you mean one of: '--x', '--y'?)", from
// difflib.get_close_matches(word, possibilities) (n=3, cutoff 0.6).
func didYouMean(word string, possibilities []string) string {
	type match struct {
		score float64
		s     string
	}
	var ms []match
	for _, p := range possibilities {
		if r := similarity(p, word); r >= 0.6 {
			ms = append(ms, match{r, p})
		}
	}
	// heapq.nlargest(3, (score, s)): the best scores, ties to the larger
	// string; click then sorts them.
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].score != ms[j].score {
			return ms[i].score > ms[j].score
		}
		return ms[i].s > ms[j].s
	})
	ms = ms[:min(3, len(ms))]
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = "'" + m.s + "'"
	}
	sort.Strings(names)
	switch len(names) {
	case 0:
		return ""
	case 1:
		return " Did you mean " + names[0] + "?"
	}
	return " (Did you mean one of: " + strings.Join(names, ", ") + "?)"
}

// similarity is difflib.SequenceMatcher(None, a, b).ratio(): twice the
// characters of the matching blocks over the total length. Option names
// are far below the 200 characters where difflib's autojunk starts.
func similarity(a, b string) float64 {
	ar, br := []rune(a), []rune(b)
	if len(ar)+len(br) == 0 {
		return 1
	}
	b2j := map[rune][]int{}
	for j, c := range br {
		b2j[c] = append(b2j[c], j)
	}
	// longest is find_longest_match: the longest common block of
	// a[alo:ahi] and b[blo:bhi], the earliest in a, then in b.
	longest := func(alo, ahi, blo, bhi int) (int, int, int) {
		bi, bj, size := alo, blo, 0
		j2len := map[int]int{}
		for i := alo; i < ahi; i++ {
			next := map[int]int{}
			for _, j := range b2j[ar[i]] {
				if j < blo {
					continue
				}
				if j >= bhi {
					break
				}
				k := j2len[j-1] + 1
				next[j] = k
				if k > size {
					bi, bj, size = i-k+1, j-k+1, k
				}
			}
			j2len = next
		}
		return bi, bj, size
	}
	matched := 0
	queue := [][4]int{{0, len(ar), 0, len(br)}}
	for len(queue) > 0 {
		q := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		i, j, k := longest(q[0], q[1], q[2], q[3])
		if k == 0 {
			continue
		}
		matched += k
		if q[0] < i && q[2] < j {
			queue = append(queue, [4]int{q[0], i, q[2], j})
		}
		if i+k < q[1] && j+k < q[3] {
			queue = append(queue, [4]int{i + k, q[1], j + k, q[3]})
		}
	}
	return 2 * float64(matched) / float64(len(ar)+len(br))
}
