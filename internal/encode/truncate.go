package encode

import (
	"unicode/utf8"

	"github.com/mlflowtrace/mlflowtrace-go/internal/wordscan"
)

// Truncate applies MLflow's truncation rule: when s has more than max
// characters (runes), it returns the first max-3 characters followed by
// "...". max <= 0 means no limit. Invalid UTF-8 bytes count as one character
// each.
func Truncate(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	keep := max - 3
	if keep < 0 {
		keep = 0
	}
	return s[:runeOffset(s, keep)] + "..."
}

// Cut returns the first max characters (runes) of s, without a suffix: the
// plain cut MLflow applies to trace metadata and tags (k[:250]). max <= 0
// means no limit.
func Cut(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	return s[:runeOffset(s, max)]
}

// runeOffset returns the byte offset of the n-th rune of s (len(s) if s has
// fewer runes).
func runeOffset(s string, n int) int {
	i := 0
	for n > 0 && i < len(s) {
		if n >= 8 && i+8 <= len(s) && load8(s, i)&wordscan.Highs == 0 {
			i, n = i+8, n-8 // eight ASCII bytes: eight runes
			continue
		}
		if s[i] < utf8.RuneSelf {
			i, n = i+1, n-1
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i, n = i+size, n-1
	}
	return i
}
