package localstore

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// yamlQuote returns s as a YAML double-quoted scalar that PyYAML (and
// libyaml) read back as exactly s. Characters YAML does not allow raw in a
// stream (C0/C1 controls, DEL, U+FEFF, U+FFFE, U+FFFF) are escaped; invalid
// UTF-8 becomes U+FFFD.
func yamlQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if yamlPrintable(r) {
				b.WriteRune(r)
				continue
			}
			switch {
			case r < 0x100:
				b.WriteString(`\x`)
				writeHex(&b, uint32(r), 2)
			case r < 0x10000:
				b.WriteString(`\u`)
				writeHex(&b, uint32(r), 4)
			default:
				b.WriteString(`\U`)
				writeHex(&b, uint32(r), 8)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeHex(b *strings.Builder, v uint32, width int) {
	const digits = "0123456789ABCDEF"
	for i := width - 1; i >= 0; i-- {
		b.WriteByte(digits[(v>>(4*uint(i)))&0xF])
	}
}

// yamlPrintable mirrors the character set PyYAML's reader accepts, minus
// U+0085 and U+FEFF which are safer escaped.
func yamlPrintable(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return true // U+FFFD itself is printable; invalid bytes decode to it
	case r >= 0x20 && r <= 0x7E:
		return true
	case r >= 0xA0 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return r != 0xFEFF
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// yamlField is one top-level entry of a YAML mapping document.
type yamlField struct {
	Value string
	Null  bool
}

// parseTopLevelYAML reads the top-level scalar entries of a block mapping as
// PyYAML's safe_dump writes it (meta.yaml): `key: value` lines whose value is
// plain, 'single-quoted' or "double-quoted", possibly folded over indented
// continuation lines. Nested mappings are returned with their raw text and
// are not interpreted. It never fails: unreadable lines are skipped.
func parseTopLevelYAML(data []byte) map[string]yamlField {
	out := map[string]yamlField{}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" || line[0] == ' ' || line[0] == '#' || line[0] == '\t' || strings.HasPrefix(line, "---") || strings.HasPrefix(line, "...") {
			continue
		}
		key, rest, ok := splitKey(line)
		if !ok {
			continue
		}
		// Gather continuation lines (indented or empty).
		parts := []string{rest}
		for i+1 < len(lines) && (lines[i+1] == "" || lines[i+1][0] == ' ' || lines[i+1][0] == '\t') {
			i++
			parts = append(parts, lines[i])
		}
		for len(parts) > 1 && strings.TrimSpace(parts[len(parts)-1]) == "" {
			parts = parts[:len(parts)-1]
		}
		out[key] = parseScalar(parts)
	}
	return out
}

func splitKey(line string) (key, rest string, ok bool) {
	if line[0] == '"' || line[0] == '\'' {
		// Quoted keys are not written by FileStore; skip.
		return "", "", false
	}
	idx := strings.Index(line, ": ")
	if idx < 0 {
		if strings.HasSuffix(line, ":") {
			return line[:len(line)-1], "", true
		}
		return "", "", false
	}
	return line[:idx], line[idx+2:], true
}

func parseScalar(parts []string) yamlField {
	first := strings.TrimSpace(parts[0])
	switch {
	case first == "" && len(parts) > 1:
		// Nested block (mapping or sequence): keep raw text.
		return yamlField{Value: strings.Join(parts[1:], "\n")}
	case first == "" || first == "null" || first == "~" || first == "Null" || first == "NULL":
		if len(parts) == 1 {
			return yamlField{Null: true}
		}
	}
	text := strings.TrimLeft(parts[0], " ")
	switch {
	case strings.HasPrefix(text, "\""):
		return yamlField{Value: parseDoubleQuoted(text[1:], parts[1:])}
	case strings.HasPrefix(text, "'"):
		return yamlField{Value: parseSingleQuoted(text[1:], parts[1:])}
	}
	return yamlField{Value: fold(parts, false)}
}

// fold joins the lines of a multi-line flow scalar: a single line break
// becomes a space, each empty line a newline; surrounding spaces of each line
// are trimmed (except a leading first line).
func fold(lines []string, keepTrailing bool) string {
	var b strings.Builder
	pendingBreaks := 0
	for i, l := range lines {
		t := l
		if i > 0 {
			t = strings.TrimLeft(t, " \t")
		}
		if i < len(lines)-1 || !keepTrailing {
			t = strings.TrimRight(t, " \t")
		}
		if i > 0 && t == "" && i < len(lines)-1 {
			pendingBreaks++
			continue
		}
		if i > 0 {
			if pendingBreaks > 0 {
				b.WriteString(strings.Repeat("\n", pendingBreaks))
			} else {
				b.WriteByte(' ')
			}
		}
		pendingBreaks = 0
		b.WriteString(t)
	}
	return b.String()
}

func parseSingleQuoted(first string, more []string) string {
	all := append([]string{first}, more...)
	joined := strings.Join(all, "\n")
	// Find the closing quote (a ' not followed by another ').
	end := -1
	for i := 0; i < len(joined); i++ {
		if joined[i] == '\'' {
			if i+1 < len(joined) && joined[i+1] == '\'' {
				i++
				continue
			}
			end = i
			break
		}
	}
	if end >= 0 {
		joined = joined[:end]
	}
	return strings.ReplaceAll(fold(strings.Split(joined, "\n"), true), "''", "'")
}

func parseDoubleQuoted(first string, more []string) string {
	all := append([]string{first}, more...)
	var b strings.Builder
	pendingBreaks := 0
	for li, line := range all {
		if li > 0 {
			line = strings.TrimLeft(line, " \t")
		}
		// Process this line's content.
		var seg strings.Builder
		escapedBreak := false
		closed := false
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == '"' {
				closed = true
				break
			}
			if c != '\\' {
				seg.WriteByte(c)
				continue
			}
			if i+1 >= len(line) {
				escapedBreak = true
				break
			}
			i++
			switch e := line[i]; e {
			case '0':
				seg.WriteByte(0)
			case 'a':
				seg.WriteByte(7)
			case 'b':
				seg.WriteByte(8)
			case 't', '\t':
				seg.WriteByte('\t')
			case 'n':
				seg.WriteByte('\n')
			case 'v':
				seg.WriteByte(11)
			case 'f':
				seg.WriteByte(12)
			case 'r':
				seg.WriteByte('\r')
			case 'e':
				seg.WriteByte(0x1b)
			case ' ', '"', '/', '\\':
				seg.WriteByte(e)
			case 'N':
				seg.WriteRune(0x85)
			case '_':
				seg.WriteRune(0xA0)
			case 'L':
				seg.WriteRune(0x2028)
			case 'P':
				seg.WriteRune(0x2029)
			case 'x', 'u', 'U':
				n := 2
				if e == 'u' {
					n = 4
				} else if e == 'U' {
					n = 8
				}
				if i+1+n <= len(line) {
					if v, err := strconv.ParseUint(line[i+1:i+1+n], 16, 32); err == nil {
						seg.WriteRune(rune(v))
						i += n
						continue
					}
				}
				seg.WriteByte('\\')
				seg.WriteByte(e)
			default:
				seg.WriteByte('\\')
				seg.WriteByte(e)
			}
		}
		s := seg.String()
		if !closed && !escapedBreak {
			s = strings.TrimRight(s, " \t")
		}
		if li > 0 {
			if s == "" && !closed {
				pendingBreaks++
				continue
			}
			if pendingBreaks > 0 {
				b.WriteString(strings.Repeat("\n", pendingBreaks))
			} else if !prevEscaped(all, li) {
				b.WriteByte(' ')
			}
			pendingBreaks = 0
		}
		b.WriteString(s)
		if closed {
			break
		}
	}
	return b.String()
}

// prevEscaped reports whether line li-1 ends with an escaped line break.
func prevEscaped(all []string, li int) bool {
	prev := all[li-1]
	n := 0
	for j := len(prev) - 1; j >= 0 && prev[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}
