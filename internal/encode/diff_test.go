package encode

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The differential tests compare JSON with referenceJSON (the encoder before
// the per-type cache, in reference_test.go) byte for byte, over a table and
// over random nested values (TestDifferentialRandom, FuzzJSON).
//
// Maps whose keys collide once turned into JSON object keys (two NaN keys,
// any-keys 1 and "1") are written in an order that depends on Go's map
// iteration order in both implementations, so the generator never builds them.

// ---- types the generator and the table use ----

type fzInner struct {
	A int      `json:"a"`
	B string   `json:"b,omitempty"`
	C *float64 `json:"c,omitempty"`
	D any      `json:"d"`
}

type FzEmb struct {
	E1  int
	E2  string `json:"e2"`
	Dup int
}

type fzEmb2 struct {
	Dup int
	X2  []string
	Tag string `json:"tag"`
}

type FzEmb3 struct {
	Tag   string `json:"tag"`
	Deep  *fzInner
	Other int `json:"Dup"`
}

type fzBig struct {
	FzEmb
	*fzEmb2
	*FzEmb3
	Name  string         `json:"name"`
	Opt   string         `json:"opt,omitempty"`
	OptZ  time.Time      `json:"optz,omitzero"`
	OptZP *fzZeroer      `json:"optzp,omitzero"`
	OptZV fzZeroer       `json:"optzv,omitzero"`
	OptZI any            `json:"optzi,omitzero"`
	OptE  []int          `json:"opte,omitempty"`
	OptM  map[string]int `json:"optm,omitempty"`
	OptP  *int           `json:"optp,omitempty"`
	OptF  float64        `json:"optf,omitempty"`
	OptB  bool           `json:"optb,omitempty"`
	OptA  [0]int         `json:"opta,omitempty"`
	OptS  fzInner        `json:"opts,omitempty"`
	QI    int            `json:"qi,string"`
	QS    string         `json:"qs,string"`
	QB    bool           `json:"qb,string"`
	QF    float64        `json:"qf,string"`
	QP    *int           `json:"qp,string"`
	QM    fzTextVal      `json:"qm,string"`
	QJ    fzJSONVal      `json:"qj,string"`
	QN    json.Number    `json:"qn,string"`
	Skip  int            `json:"-"`
	//lint:ignore SA5008 the tag encoding/json reads as the name "-": the encoder must agree.
	Dash int `json:"-,"`
	//lint:ignore U1000 an unexported field the encoder must skip, as encoding/json does.
	priv    int
	Iface   any               `json:"iface"`
	Err     error             `json:"err"`
	Marsh   json.Marshaler    `json:"marsh"`
	Str     fmt.Stringer      `json:"str"`
	Inner   fzInner           `json:"inner"`
	PInner  *fzInner          `json:"pinner"`
	Inners  []fzInner         `json:"inners"`
	PM      fzPtrJSON         `json:"pm"`
	PMs     []fzPtrJSON       `json:"pms"`
	PMa     [2]fzPtrJSON      `json:"pma"`
	PT      fzPtrText         `json:"pt"`
	PE      fzPtrErr          `json:"pe"`
	Bytes   []byte            `json:"bytes"`
	NBytes  fzBytes           `json:"nbytes"`
	TBytes  []fzTextByte      `json:"tbytes"`
	Raw     json.RawMessage   `json:"raw"`
	Num     json.Number       `json:"num"`
	F32     float32           `json:"f32"`
	C64     complex64         `json:"c64"`
	Ch      chan int          `json:"ch"`
	Fn      func() int        `json:"fn"`
	SS      []string          `json:"ss"`
	MSS     map[string]string `json:"mss"`
	MSA     map[string]any    `json:"msa"`
	LMSA    []map[string]any  `json:"lmsa"`
	SA      []any             `json:"sa"`
	MIK     map[int]string    `json:"mik"`
	MTK     map[fzKey]int     `json:"mtk"`
	MNS     map[fzName]any    `json:"mns"`
	Node    *fzNode           `json:"node"`
	Arr     [3]any            `json:"arr"`
	Unicode string            `json:"ünï,omitempty"`
	//lint:ignore SA5008 a name encoding/json rejects (it uses the field name): the encoder must agree.
	Quote string        `json:"q\"uote,omitempty"`
	Time  time.Time     `json:"time"`
	Dur   time.Duration `json:"dur"`
	IP    net.IP        `json:"ip"`
}

type fzNode struct {
	Name string             `json:"name"`
	Next *fzNode            `json:"next,omitempty"`
	Kids []*fzNode          `json:"kids,omitempty"`
	Map  map[string]*fzNode `json:"map,omitempty"`
	Any  any                `json:"any,omitempty"`
}

type fzZeroer struct{ N int }

func (z fzZeroer) IsZero() bool { return z.N%2 == 0 }

type fzPanicZeroer struct{ N int }

func (z *fzPanicZeroer) IsZero() bool { return z.N > 0 }

type fzTextVal int

func (t fzTextVal) MarshalText() ([]byte, error) {
	switch {
	case t < 0:
		return nil, errors.New("negative")
	case t == 13:
		panic("unlucky")
	}
	return []byte(fmt.Sprintf("tv<%d>\n", int(t))), nil
}

type fzJSONVal string

func (j fzJSONVal) MarshalJSON() ([]byte, error) {
	switch j {
	case "err":
		return nil, errors.New("json err")
	case "panic":
		panic("json panic")
	case "nilpanic":
		var m map[string]int
		//lint:ignore SA5000 the runtime panic a MarshalJSON may raise, on purpose.
		m["x"] = 1
	}
	return []byte(j), nil
}

type fzPtrJSON struct{ V int }

func (p *fzPtrJSON) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf(`{"ptr":%d}`, p.V)), nil }

type fzPtrText struct{ V string }

func (p *fzPtrText) MarshalText() ([]byte, error) { return []byte("pt:" + p.V), nil }

type fzPtrErr struct{ V int }

func (p *fzPtrErr) Error() string { return fmt.Sprintf("ptr err %d", p.V) }

type fzValErr struct{ Msg string }

func (e fzValErr) Error() string {
	if e.Msg == "panic" {
		panic("error panic")
	}
	return e.Msg
}

type fzStringer int

func (s fzStringer) String() string { return fmt.Sprintf("S%d", int(s)) }

type fzBytes []byte

type fzTextByte byte

func (b fzTextByte) MarshalText() ([]byte, error) { return []byte{'b', byte(b)%26 + 'a'}, nil }

type fzKey struct{ A, B int }

func (k fzKey) MarshalText() ([]byte, error) { return []byte(fmt.Sprintf("k%d_%d", k.A, k.B)), nil }

type fzName string

type fzPlainKey struct{ A int }

type fzMarshalNamed map[string]int

func (m fzMarshalNamed) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(` { "n" : %d , "l":[ 1 , 2 ] } `, len(m))), nil
}

type fzSelf []fzSelf

type fzStringMarshal string

func (s fzStringMarshal) MarshalText() ([]byte, error) { return []byte("sm-" + string(s)), nil }

type fzIntAlias int

type fzUnexportedTagged struct {
	fzInner `json:"tagged_inner"`
	X       int
}

type fzConflict struct {
	FzEmb
	FzEmb3
	Dup int
}

type fzConflictTie struct {
	FzEmb
	fzEmb2
}

// ---- generator ----

// src is the randomness: a PRNG, or the fuzzer's bytes (zero when used up).
type src struct {
	r    *rand.Rand
	data []byte
}

func (s *src) n(k int) int {
	if k <= 1 {
		return 0
	}
	if s.r != nil {
		return s.r.IntN(k)
	}
	if len(s.data) == 0 {
		return 0
	}
	b := int(s.data[0])
	s.data = s.data[1:]
	if k > 256 && len(s.data) > 0 {
		b = b<<8 | int(s.data[0])
		s.data = s.data[1:]
	}
	return b % k
}

func (s *src) u64() uint64 {
	if s.r != nil {
		return s.r.Uint64()
	}
	var b [8]byte
	m := copy(b[:], s.data)
	s.data = s.data[m:]
	return binary.LittleEndian.Uint64(b[:])
}

type gen struct {
	s     *src
	maps  []map[string]any
	anys  []any
	nodes []*fzNode
	made  int // values made so far
	reuse int // shared containers handed out so far
}

// Bounds on a generated value: a value shared n times is written n times, so
// unbounded sharing makes outputs exponentially long.
const (
	genMaxValues = 400
	genMaxReuse  = 4
)

// share reports whether to hand out an already built container.
func (g *gen) share(have int) bool {
	if have == 0 || g.reuse >= genMaxReuse || g.s.n(3) != 0 {
		return false
	}
	g.reuse++
	return true
}

const genMaxDepth = 5

var fzStrings = []string{
	"", "a", "hello world", "héllo wörld", "日本語", "😀", "quote\"back\\slash", "new\nline\ttab\r",
	"\x00\x01\x1f\x7f", "\u2028\u2029", "<>&", "a\xffb", "\xed\xa0\x80", "\xf0\x9f", "Dup", "dup", "name",
	strings.Repeat("x", 300), "1", "true", "null", "NaN",
}

var fzFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 2.5, 1e15, 1e16, 1e-4, 1e-5, 1.5e-7, 123456789012345678,
	math.MaxFloat64, 5e-324, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1),
	1e21, 1e22, 0.000123, 9007199254740993, 3.0000000000000004, float64(float32(0.1)),
}

var fzRawJSON = []string{
	`{"z":1,"a":"x\u003cy","b":[1,2.50,{}]}`, ` [ 1 , 2 ] `, `"\u00e9\n"`, `"\ud83d\ude00"`, `"\ud800"`,
	`"a\/b"`, `null`, `true`, `1e5`, `-0`, `{"a":{"b":{"c":[]}}}`, `{"a":`, ``, `   `, `nope`, `"unterminated`,
	`{"k":"v"}{"k":"v"}`, `"\\\""`, `{"\u0000":"\t"}`, "\"\xff\"", `[1,"x",null]`, "{\n  \"a\": 1\n}",
}

func (g *gen) str() string {
	if g.s.n(4) == 0 {
		b := make([]byte, g.s.n(12))
		for i := range b {
			b[i] = byte(g.s.n(256))
		}
		return string(b)
	}
	return fzStrings[g.s.n(len(fzStrings))]
}

func (g *gen) float() float64 {
	if g.s.n(3) == 0 {
		return math.Float64frombits(g.s.u64())
	}
	return fzFloats[g.s.n(len(fzFloats))]
}

func (g *gen) int() int {
	switch g.s.n(4) {
	case 0:
		return int(g.s.u64())
	case 1:
		return -g.s.n(100)
	}
	return g.s.n(100)
}

// value returns a random value of any shape.
func (g *gen) value(depth int) any {
	g.made++
	if depth >= genMaxDepth || g.made > genMaxValues {
		return g.scalar()
	}
	switch g.s.n(30) {
	case 0, 1, 2, 3:
		return g.scalar()
	case 4, 5, 6:
		if g.share(len(g.maps)) {
			return g.maps[g.s.n(len(g.maps))] // shared or cyclic
		}
		m := map[string]any{}
		g.maps = append(g.maps, m)
		for range g.s.n(5) {
			m[g.str()] = g.value(depth + 1)
		}
		if g.s.n(10) == 0 {
			return map[string]any(nil)
		}
		return m
	case 7, 8, 9:
		if g.share(len(g.anys)) {
			s := g.anys[g.s.n(len(g.anys))].([]any)
			return s[:g.s.n(len(s)+1)] // the same slice (a cycle) or a prefix of it
		}
		s := make([]any, g.s.n(5))
		g.anys = append(g.anys, s)
		for i := range s {
			s[i] = g.value(depth + 1)
		}
		if g.s.n(10) == 0 {
			return []any(nil)
		}
		return s
	case 10:
		s := make([]string, g.s.n(4))
		for i := range s {
			s[i] = g.str()
		}
		if g.s.n(4) == 0 {
			return []string(nil)
		}
		return s
	case 11:
		m := map[string]string{}
		for range g.s.n(4) {
			m[g.str()] = g.str()
		}
		if g.s.n(4) == 0 {
			return map[string]string(nil)
		}
		return m
	case 12:
		s := make([]map[string]any, g.s.n(3))
		for i := range s {
			s[i] = map[string]any{"role": g.str(), "content": g.value(depth + 1)}
		}
		return s
	case 13:
		return g.node(depth + 1)
	case 14, 15, 16:
		return g.typed(reflect.TypeFor[fzBig](), depth+1).Interface()
	case 17:
		v := g.typed(reflect.TypeFor[fzBig](), depth+1)
		p := reflect.New(v.Type())
		p.Elem().Set(v)
		return p.Interface()
	case 18:
		return g.typed(fzTypes[g.s.n(len(fzTypes))], depth+1).Interface()
	case 19:
		t := fzTypes[g.s.n(len(fzTypes))]
		v := g.typed(t, depth+1)
		p := reflect.New(t)
		p.Elem().Set(v)
		return p.Interface()
	case 20:
		return g.keyedMap(depth + 1)
	case 21:
		return fzJSONVal(g.rawJSON(depth))
	case 22:
		return json.RawMessage(g.rawJSON(depth))
	case 23:
		var inner any = g.value(depth + 1)
		return &inner
	case 24:
		self := make(fzSelf, g.s.n(3))
		for i := range self {
			if g.s.n(2) == 0 {
				self[i] = self
			} else {
				self[i] = fzSelf{}
			}
		}
		return self
	case 25:
		return fzMarshalNamed{"a": 1}
	case 26:
		return [2]any{g.value(depth + 1), g.scalar()}
	case 27:
		m := map[string]map[string]any{}
		for range g.s.n(3) {
			m[g.str()] = map[string]any{"x": g.value(depth + 1)}
		}
		return m
	case 28:
		return g.special()
	default:
		return []map[string]string{{"a": g.str()}, nil}
	}
}

func (g *gen) rawJSON(depth int) string {
	switch g.s.n(3) {
	case 0:
		return fzRawJSON[g.s.n(len(fzRawJSON))]
	case 1:
		b, err := json.Marshal(plainJSON(g, depth))
		if err != nil {
			return "null"
		}
		return string(b)
	}
	b, err := json.MarshalIndent(plainJSON(g, depth), " ", "\t")
	if err != nil {
		return "null"
	}
	return string(b)
}

// plainJSON is a value json.Marshal accepts.
func plainJSON(g *gen, depth int) any {
	if depth >= genMaxDepth {
		return g.str()
	}
	switch g.s.n(5) {
	case 0:
		return g.str()
	case 1:
		f := g.float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = 1.25
		}
		return f
	case 2:
		return []any{plainJSON(g, depth+1), nil, true}
	case 3:
		return map[string]any{g.str(): plainJSON(g, depth+1), "b": g.int()}
	}
	return g.int()
}

func (g *gen) scalar() any {
	switch g.s.n(26) {
	case 0:
		return nil
	case 1, 2, 3:
		return g.str()
	case 4:
		return g.s.n(2) == 0
	case 5, 6:
		return g.int()
	case 7:
		return int64(g.s.u64())
	case 8:
		return int8(g.s.u64())
	case 9:
		return uint64(g.s.u64())
	case 10:
		return uint8(g.s.n(256))
	case 11, 12:
		return g.float()
	case 13:
		return float32(g.float())
	case 14:
		return complex(g.float(), g.float())
	case 15:
		return json.Number([]string{"12.50", "abc", "", "-1", "1e3", "0x10", " 1", "-", "01"}[g.s.n(9)])
	case 16:
		b := make([]byte, g.s.n(8))
		for i := range b {
			b[i] = byte(g.s.n(256))
		}
		if g.s.n(5) == 0 {
			return []byte(nil)
		}
		return b
	case 17:
		return fzTextVal(g.s.n(20) - 3)
	case 18:
		return errors.New(g.str())
	case 19:
		return fzValErr{Msg: []string{"boom", "panic", ""}[g.s.n(3)]}
	case 20:
		return fzName(g.str())
	case 21:
		return fzIntAlias(g.int())
	case 22:
		return time.Duration(g.int())
	case 23:
		return time.Unix(int64(g.s.n(1<<30)), int64(g.s.n(1e9))).UTC()
	case 24:
		return fzStringMarshal(g.str())
	}
	return uintptr(g.s.n(1000))
}

func (g *gen) special() any {
	switch g.s.n(12) {
	case 0:
		return make(chan int)
	case 1:
		return func() {}
	case 2:
		return (*fzInner)(nil)
	case 3:
		return (*fzPtrJSON)(nil)
	case 4:
		return &fzPtrJSON{V: g.int()}
	case 5:
		return fzPtrJSON{V: 1}
	case 6:
		return json.RawMessage(nil)
	case 7:
		return fzJSONVal([]string{"err", "panic", "nilpanic", "", "1"}[g.s.n(5)])
	case 8:
		return &fzPtrErr{V: 2}
	case 9:
		return fzTextByte(g.s.n(256))
	case 10:
		return []fzTextByte{1, 2}
	}
	return fzUnexportedTagged{X: 1}
}

func (g *gen) node(depth int) *fzNode {
	if g.share(len(g.nodes)) {
		return g.nodes[g.s.n(len(g.nodes))]
	}
	n := &fzNode{Name: g.str()}
	g.nodes = append(g.nodes, n)
	g.made++
	if depth >= genMaxDepth || g.made > genMaxValues {
		return n
	}
	switch g.s.n(4) {
	case 0:
		n.Next = g.node(depth + 1)
	case 1:
		n.Kids = []*fzNode{g.node(depth + 1), nil}
	case 2:
		n.Map = map[string]*fzNode{"x": g.node(depth + 1), "nil": nil}
	case 3:
		n.Any = g.value(depth + 1)
	}
	return n
}

// keyedMap builds a map with non-string keys; keys never collide once
// written as JSON object keys.
func (g *gen) keyedMap(depth int) any {
	var m reflect.Value
	var key func() reflect.Value
	switch g.s.n(9) {
	case 0:
		m = reflect.ValueOf(map[int]any{})
		key = func() reflect.Value { return reflect.ValueOf(g.int()) }
	case 1:
		m = reflect.ValueOf(map[float64]string{})
		key = func() reflect.Value { return reflect.ValueOf(g.float()) }
	case 2:
		m = reflect.ValueOf(map[bool]int{})
		key = func() reflect.Value { return reflect.ValueOf(g.s.n(2) == 0) }
	case 3:
		m = reflect.ValueOf(map[fzKey]any{})
		key = func() reflect.Value { return reflect.ValueOf(fzKey{g.s.n(5), g.s.n(5)}) }
	case 4:
		m = reflect.ValueOf(map[any]any{})
		key = func() reflect.Value {
			var k any
			switch g.s.n(6) {
			case 0:
				k = g.int()
			case 1:
				k = g.str()
			case 2:
				k = g.float()
			case 3:
				k = fzKey{g.s.n(5), 1}
			case 4:
				k = fzPlainKey{g.s.n(5)}
			}
			return reflect.ValueOf(&k).Elem()
		}
	case 5:
		m = reflect.ValueOf(map[fzPlainKey]int{})
		key = func() reflect.Value { return reflect.ValueOf(fzPlainKey{g.int()}) }
	case 6:
		m = reflect.ValueOf(map[uint8]float32{})
		key = func() reflect.Value { return reflect.ValueOf(uint8(g.s.n(256))) }
	case 7:
		m = reflect.ValueOf(map[fzTextVal]int{})
		key = func() reflect.Value { return reflect.ValueOf(fzTextVal(g.s.n(30) - 5)) }
	default:
		m = reflect.ValueOf(map[fzName][]int{})
		key = func() reflect.Value { return reflect.ValueOf(fzName(g.str())) }
	}
	seen := map[string]bool{}
	for range g.s.n(5) {
		k := key()
		ks := refMapKey(k)
		if seen[ks] {
			continue
		}
		seen[ks] = true
		m.SetMapIndex(k, g.typed(m.Type().Elem(), depth+1))
	}
	return m.Interface()
}

var fzTypes = []reflect.Type{
	reflect.TypeFor[fzInner](), reflect.TypeFor[FzEmb](), reflect.TypeFor[fzEmb2](), reflect.TypeFor[FzEmb3](),
	reflect.TypeFor[fzConflict](), reflect.TypeFor[fzConflictTie](), reflect.TypeFor[[]fzInner](),
	reflect.TypeFor[map[string]fzInner](), reflect.TypeFor[[2]fzPtrJSON](), reflect.TypeFor[[]fzPtrJSON](),
	reflect.TypeFor[[]*fzPtrJSON](), reflect.TypeFor[map[string]fzPtrJSON](), reflect.TypeFor[[]fzPtrText](),
	reflect.TypeFor[[]fzPtrErr](), reflect.TypeFor[map[string]*fzPtrErr](), reflect.TypeFor[fzZeroer](),
	reflect.TypeFor[[]fzPanicZeroer](), reflect.TypeFor[fzBytes](), reflect.TypeFor[[]fzTextByte](),
	reflect.TypeFor[[]float32](), reflect.TypeFor[[]float64](), reflect.TypeFor[[]int](), reflect.TypeFor[[3]string](),
	reflect.TypeFor[map[string]int](), reflect.TypeFor[map[string]float64](), reflect.TypeFor[map[string][]string](),
	reflect.TypeFor[[]map[string]string](), reflect.TypeFor[map[string]map[string]string](),
	reflect.TypeFor[[][]any](), reflect.TypeFor[*int](), reflect.TypeFor[**fzInner](), reflect.TypeFor[[]error](),
	reflect.TypeFor[[]fmt.Stringer](), reflect.TypeFor[[]json.Marshaler](), reflect.TypeFor[fzUnexportedTagged](),
	reflect.TypeFor[struct {
		A int `json:"a,string"`
		B []int
		c int
	}](),
	reflect.TypeFor[struct{ M map[fzTextVal]string }](),
	reflect.TypeFor[[]fzStringMarshal](), reflect.TypeFor[map[fzStringMarshal]int](),
}

// typed returns a random value of type t, built by reflection.
func (g *gen) typed(t reflect.Type, depth int) reflect.Value {
	v := reflect.New(t).Elem()
	g.made++
	if depth > genMaxDepth+2 || g.made > genMaxValues || g.s.n(12) == 0 {
		return v // zero value
	}
	switch t.Kind() {
	case reflect.Bool:
		v.SetBool(g.s.n(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(g.int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(g.s.u64())
	case reflect.Float32, reflect.Float64:
		v.SetFloat(g.float())
	case reflect.Complex64, reflect.Complex128:
		v.SetComplex(complex(g.float(), g.float()))
	case reflect.String:
		switch t {
		case reflect.TypeFor[json.Number]():
			v.SetString([]string{"1.50", "x", "", "-2"}[g.s.n(4)])
		case reflect.TypeFor[fzJSONVal]():
			v.SetString(g.rawJSON(depth))
		default:
			v.SetString(g.str())
		}
	case reflect.Interface:
		var x any
		switch t {
		case reflect.TypeFor[any]():
			x = g.value(depth)
		case reflect.TypeFor[error]():
			x = []any{errors.New(g.str()), fzValErr{"v"}, &fzPtrErr{3}, (*fzPtrErr)(nil), nil}[g.s.n(5)]
		case reflect.TypeFor[json.Marshaler]():
			x = []any{fzJSONVal(g.rawJSON(depth)), &fzPtrJSON{4}, (*fzPtrJSON)(nil), json.RawMessage(nil), nil, time.Time{}}[g.s.n(6)]
		case reflect.TypeFor[fmt.Stringer]():
			x = []any{fzStringer(g.int()), time.Duration(5), nil, net.IP{1, 2, 3, 4}}[g.s.n(4)]
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.Pointer:
		if g.s.n(3) == 0 {
			return v
		}
		if t == reflect.TypeFor[*fzNode]() {
			v.Set(reflect.ValueOf(g.node(depth)))
			return v
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(g.typed(t.Elem(), depth+1))
		v.Set(p)
	case reflect.Slice:
		if t == reflect.TypeFor[[]any]() && g.share(len(g.anys)) {
			v.Set(reflect.ValueOf(g.anys[g.s.n(len(g.anys))]))
			return v
		}
		n := g.s.n(4)
		s := reflect.MakeSlice(t, n, n)
		for i := range n {
			s.Index(i).Set(g.typed(t.Elem(), depth+1))
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			v.Index(i).Set(g.typed(t.Elem(), depth+1))
		}
	case reflect.Map:
		if t == reflect.TypeFor[map[string]any]() && g.share(len(g.maps)) {
			v.Set(reflect.ValueOf(g.maps[g.s.n(len(g.maps))]))
			return v
		}
		m := reflect.MakeMap(t)
		seen := map[string]bool{}
		for range g.s.n(4) {
			k := g.typed(t.Key(), depth+1)
			ks := refMapKey(k)
			if seen[ks] {
				continue
			}
			seen[ks] = true
			m.SetMapIndex(k, g.typed(t.Elem(), depth+1))
		}
		v.Set(m)
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(int64(g.s.n(1<<30)), 0).UTC()))
			return v
		}
		for i := range t.NumField() {
			f := v.Field(i)
			if !f.CanSet() {
				continue
			}
			f.Set(g.typed(t.Field(i).Type, depth+1))
		}
	case reflect.Chan:
		if g.s.n(2) == 0 {
			v.Set(reflect.MakeChan(t, 0))
		}
	case reflect.Func:
		if g.s.n(2) == 0 {
			v.Set(reflect.MakeFunc(t, func([]reflect.Value) []reflect.Value {
				return []reflect.Value{reflect.ValueOf(0)}
			}))
		}
	}
	return v
}

// ---- the comparisons ----

func checkSame(t *testing.T, name string, v any) {
	t.Helper()
	want := referenceJSON(v)
	got := JSON(v)
	if got != want {
		t.Fatalf("%s: JSON differs from the reference\n got: %s\nwant: %s\nvalue: %#v", name, got, want, v)
	}
	if got2 := string(AppendJSON([]byte("prefix"), v)); got2 != "prefix"+string(refAppendJSON(nil, v)) {
		t.Fatalf("%s: AppendJSON differs from the reference\n got: %s\nwant: prefix%s", name, got2, refAppendJSON(nil, v))
	}
}

func diffTable() map[string]any {
	n := 7
	f := 2.5
	selfMap := map[string]any{"a": 1}
	selfMap["self"] = selfMap
	selfSlice := []any{1, nil}
	selfSlice[1] = selfSlice
	prefix := []any{1, 2, 3}
	prefix[2] = prefix[:2]
	cyc := &fzNode{Name: "a"}
	cyc.Next = &fzNode{Name: "b", Next: cyc}
	shared := map[string]any{"x": 1}
	var selfAny any
	selfAny = &selfAny
	big := fzBig{
		FzEmb: FzEmb{E1: 1, E2: "e", Dup: 3}, fzEmb2: &fzEmb2{Dup: 4, X2: []string{"x"}, Tag: "t2"},
		FzEmb3: &FzEmb3{Tag: "t3", Deep: &fzInner{A: 1, D: []any{1}}},
		Name:   "big", OptZP: &fzZeroer{2}, OptZV: fzZeroer{3}, OptZI: fzZeroer{4}, OptP: &n, OptF: 0.5,
		QI: 5, QS: "q\"s", QB: true, QF: math.NaN(), QP: &n, QM: 3, QJ: `{"a" : 1}`, QN: "1.5",
		Iface: map[string]any{"k": []any{1, "s", nil, true}}, Err: errors.New("e"), Marsh: &fzPtrJSON{9},
		Str: fzStringer(4), Inner: fzInner{A: 1, C: &f}, PInner: &fzInner{B: "b"}, Inners: []fzInner{{A: 2}},
		PM: fzPtrJSON{1}, PMs: []fzPtrJSON{{2}}, PMa: [2]fzPtrJSON{{3}, {4}}, PT: fzPtrText{"x"}, PE: fzPtrErr{5},
		Bytes: []byte("hi"), NBytes: fzBytes("nb"), TBytes: []fzTextByte{1, 2}, Raw: json.RawMessage(` {"z": 1,  "a":[1,2]}`),
		Num: "12.50", F32: 0.1, C64: complex(1, -2), Ch: make(chan int), Fn: func() int { return 1 },
		SS: []string{"a"}, MSS: map[string]string{"b": "1", "a": "2"}, MSA: map[string]any{"z": nil, "y": []string(nil)},
		LMSA: []map[string]any{{"role": "user", "content": "hi"}, nil}, SA: []any{map[string]string(nil), json.RawMessage(nil)},
		MIK: map[int]string{10: "x", 2: "y", -3: "z"}, MTK: map[fzKey]int{{1, 2}: 3}, MNS: map[fzName]any{"n": 1},
		Node: cyc, Arr: [3]any{1, "2", nil}, Unicode: "u", Quote: "q", Time: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		Dur: time.Second, IP: net.IP{127, 0, 0, 1},
	}
	var deepAny any = 1
	var deepMap any = "leaf"
	var deepSS any = []string(nil)
	var deepMSS any = map[string]string(nil)
	var deepRaw any = json.RawMessage(nil)
	for range maxDepth + 5 {
		deepAny = []any{deepAny}
		deepMap = map[string]any{"k": deepMap}
	}
	for range maxDepth - 1 {
		deepSS = []any{deepSS}
		deepMSS = map[string]any{"k": deepMSS}
		deepRaw = []any{deepRaw}
	}
	deepNode := &fzNode{Name: "leaf"}
	for range maxDepth + 5 {
		deepNode = &fzNode{Name: "n", Next: deepNode}
	}
	deepStruct := &fzNode{Name: "leaf", Any: []string{"s"}}
	for range maxDepth/2 - 1 {
		deepStruct = &fzNode{Name: "n", Any: deepStruct}
	}
	type benchQuery struct {
		Q    string `json:"q"`
		TopK int    `json:"top_k"`
	}
	return map[string]any{
		"nil":                 nil,
		"string":              "héllo \"w\"\n\x01\x7f<>&\u2028",
		"plain string":        "hello",
		"invalid utf8":        "a\xffb\xed\xa0\x80",
		"ints":                []any{int(-1), int8(-8), int16(16), int32(32), int64(64), uint(1), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64), uintptr(5)},
		"floats":              []any{1.0, 2.5, float32(0.1), 1e16, 1e15, 1e-5, 1e-4, math.NaN(), math.Inf(-1), math.Copysign(0, -1), float32(math.Inf(1))},
		"float64 slice":       []float64{0.1, 1e300, math.NaN()},
		"named":               []any{fzName("n"), fzIntAlias(3), time.Month(3), time.Duration(1500)},
		"complex":             []any{complex(1, 2), complex64(complex(float32(1.5), -1))},
		"big":                 big,
		"big ptr":             &big,
		"big zero":            fzBig{},
		"big zero ptr":        &fzBig{},
		"self map":            selfMap,
		"self slice":          selfSlice,
		"prefix slice":        prefix,
		"node cycle":          cyc,
		"self any":            selfAny,
		"dag":                 map[string]any{"l": shared, "r": shared, "s": []any{shared, shared}},
		"json.Number":         []any{json.Number("12.50"), json.Number("abc"), json.Number(""), json.Number("-"), json.Number("1e3")},
		"raw":                 []any{json.RawMessage(`[1,{"a":"b"}]`), json.RawMessage(nil), json.RawMessage(`  `), json.RawMessage(`"\u00e9\n"`)},
		"raw top nil":         json.RawMessage(nil),
		"raw in struct nil":   struct{ R json.RawMessage }{},
		"raw ptr nil":         (*json.RawMessage)(nil),
		"string slice nil":    []string(nil),
		"string slice":        []string{"a", "b\n"},
		"string map nil":      map[string]string(nil),
		"string map":          map[string]string{"b": "1", "a": "2"},
		"map any nil":         map[string]any(nil),
		"slice any nil":       []any(nil),
		"slice any empty":     []any{},
		"list of maps":        []map[string]any{{"role": "user", "content": "hi"}, {"role": "assistant", "content": []any{1, "x"}}},
		"list of string maps": []map[string]string{{"role": "user"}, nil},
		"bytes":               []byte{0, 1, 2, 250},
		"bytes nil":           []byte(nil),
		"named bytes":         fzBytes{1, 2},
		"text bytes":          []fzTextByte{1, 2, 3},
		"chan":                make(chan int),
		"func":                func(int) string { return "" },
		"marshal named map":   fzMarshalNamed{"a": 1},
		"marshal named nil":   fzMarshalNamed(nil),
		"json val err":        []any{fzJSONVal("err"), fzJSONVal("panic"), fzJSONVal("nilpanic"), fzJSONVal(`{"a":`), fzJSONVal(" [ 1 ,2 ] ")},
		"text val":            []any{fzTextVal(1), fzTextVal(-1), fzTextVal(13)},
		"text val keys":       map[fzTextVal]int{1: 1, -1: 2, 13: 3},
		"text ptr keys":       map[*fzPtrText]int{nil: 1},
		"ptr json":            []any{fzPtrJSON{1}, &fzPtrJSON{2}, (*fzPtrJSON)(nil), []fzPtrJSON{{3}}, [1]fzPtrJSON{{4}}, &[1]fzPtrJSON{{5}}, map[string]fzPtrJSON{"x": {6}}},
		"ptr text":            []any{fzPtrText{"a"}, &fzPtrText{"b"}, []fzPtrText{{"c"}}},
		"ptr err":             []any{fzPtrErr{1}, &fzPtrErr{2}, []fzPtrErr{{3}}, (*fzPtrErr)(nil)},
		"errors":              []any{errors.New("x"), fzValErr{"v"}, fzValErr{"panic"}, []error{nil, errors.New("y")}},
		"zeroers":             []any{fzZeroer{1}, []fzPanicZeroer{{1}}},
		"interface keys":      map[any]int{1: 1, "a": 2, 2.5: 3, fzKey{1, 2}: 4, fzPlainKey{3}: 5, nil: 6, true: 7},
		"float keys":          map[float64]int{1.5: 1, math.Inf(1): 2, math.Copysign(0, -1): 3, 1e20: 4},
		"plain struct keys":   map[fzPlainKey]int{{1}: 1, {2}: 2},
		"uint keys":           map[uint16]bool{1: true, 65535: false},
		"bool keys":           map[bool]string{true: "t", false: "f"},
		"deep any":            deepAny,
		"deep map":            deepMap,
		"deep node":           deepNode,
		"deep struct":         deepStruct,
		"deep []string nil":   deepSS,
		"deep map nil":        deepMSS,
		"deep raw nil":        deepRaw,
		"unexported tagged":   fzUnexportedTagged{X: 1},
		"conflict":            fzConflict{Dup: 1, FzEmb: FzEmb{Dup: 2}, FzEmb3: FzEmb3{Tag: "t"}},
		"conflict tie":        fzConflictTie{},
		"self slice type":     fzSelf{fzSelf{}, nil},
		"pointer to pointer":  func() any { p := &n; return &p }(),
		"array":               [3]int{1, 2, 3},
		"array of any":        [2]any{nil, []any{}},
		"time":                time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		"time ptr nil":        (*time.Time)(nil),
		"ip":                  net.IP{10, 0, 0, 1},
		"bench query":         benchQuery{Q: "what is mlflow?", TopK: 3},
		"bench struct":        benchStruct{Model: "gpt", Messages: []map[string]any{{"role": "user", "content": "hi"}}, Temp: 0.2},
		"anonymous struct": struct {
			A int `json:"a,omitempty"`
			B any `json:"b"`
			c int
		}{A: 1},
		"map of structs":    map[string]fzInner{"x": {A: 1}, "y": {B: "b", D: map[string]any{}}},
		"map of ptr err":    map[string]*fzPtrErr{"a": {1}, "n": nil},
		"stringer slice":    []fmt.Stringer{fzStringer(1), nil, time.Duration(2)},
		"marshaler slice":   []json.Marshaler{nil, fzJSONVal("1"), (*fzPtrJSON)(nil)},
		"string marshal":    []fzStringMarshal{"a"},
		"string marshal ks": map[fzStringMarshal]int{"a": 1, "b": 2},
	}
}

func TestDifferentialTable(t *testing.T) {
	for name, v := range diffTable() {
		t.Run(name, func(t *testing.T) { checkSame(t, name, v) })
	}
}

func TestDifferentialRandom(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 1000
	}
	for seed := range n {
		g := &gen{s: &src{r: rand.New(rand.NewPCG(uint64(seed), 42))}}
		v := g.value(0)
		checkSame(t, fmt.Sprintf("seed %d", seed), v)
	}
}

func TestDifferentialRandomConcurrent(t *testing.T) {
	// Types are compiled concurrently the first time they are seen.
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for seed := range 300 {
				g := &gen{s: &src{r: rand.New(rand.NewPCG(uint64(seed), uint64(w)))}}
				v := g.value(0)
				if got, want := JSON(v), referenceJSON(v); got != want {
					t.Errorf("seed %d worker %d:\n got: %s\nwant: %s", seed, w, got, want)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{14, 0, 0, 0})
	f.Add([]byte("structs with tags and omitempty"))
	f.Add([]byte{4, 4, 5, 1, 4, 1, 7, 3, 2, 1, 0, 9, 9, 9, 13, 13})
	for seed := range 16 {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		b := make([]byte, 64)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &gen{s: &src{data: data}}
		v := g.value(0)
		checkSame(t, "fuzz", v)
	})
}
