// Package wordscan holds the eight-bytes-at-a-time tests the JSON code
// shares: internal/encode writes strings with them and internal/rawjson
// reads them. A byte string is read as little-endian uint64 words
// (encoding/binary.LittleEndian.Uint64) and every byte of a word is tested
// at once: a byte equal to c is a zero byte of word ^ (Ones * c).
package wordscan
