package text

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

func mustNew(t testing.TB, cfg Config) *Tokenizer {
	t.Helper()
	tk, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		lower bool
		in    string
		want  []string
	}{
		{"word", true, "Hello, World!", []string{"hello", ",", "world", "!"}},
		{"word", false, "Hello, World!", []string{"Hello", ",", "World", "!"}},
		{"word", true, "don't stop", []string{"don", "'", "t", "stop"}},
		{"word", true, "iPhone12 costs $999.99", []string{"iphone12", "costs", "$", "999", ".", "99"}},
		{"word", true, "Room 101, 2nd floor", []string{"room", "101", ",", "2nd", "floor"}},
		{"word", true, "Das Café ist GROSSARTIG 😀 très bien", []string{"das", "café", "ist", "grossartig", "😀", "très", "bien"}},
		{"word", true, "ΚΑΛΗΜΕΡΑ Мир İstanbul", []string{"καλημερα", "мир", "istanbul"}},
		{"word", true, "这个手机很好用！", []string{"这", "个", "手", "机", "很", "好", "用", "！"}},
		{"word", true, "好评iPhone很好", []string{"好", "评", "iphone", "很", "好"}},
		{"word", true, "このカメラは最高です。", []string{"このカメラは", "最", "高", "です", "。"}},
		{"word", true, "٣ كتب جيدة", []string{"٣", "كتب", "جيدة"}},
		{"word", false, "cafe\u0301 ok", []string{"cafe\u0301", "ok"}},
		{"word", true, "❤️ love", []string{"❤️", "love"}},
		{"word", true, "a\tb\nc\u00a0d\u200be\ufefff\x00g", []string{"a", "b", "c", "d", "e", "f", "g"}},
		{"word", true, "AB\xffcd", []string{"ab", "\ufffd", "cd"}},
		{"word", false, "\xff\xfe", []string{"\ufffd", "\ufffd"}},
		{"word", true, "!!!...", []string{"!", "!", "!", ".", ".", "."}},
		{"word", true, "snake_case <pad>", []string{"snake", "_", "case", "<", "pad", ">"}},
		{"word", true, "", nil},
		{"word", true, " \t\n ", nil},
		{"char", false, "好评！质量很好", []string{"好", "评", "！", "质", "量", "很", "好"}},
		{"char", false, "差评 太差了", []string{"差", "评", "太", "差", "了"}},
		{"char", false, "とても良い", []string{"と", "て", "も", "良", "い"}},
		{"char", true, "OK好 的", []string{"o", "k", "好", "的"}},
		{"char", false, "", nil},
		{"char", false, "\u3000 \t", nil}, // ideographic space
		{"hash-ngram", true, "Good Phone, good!", []string{"good", "phone", ",", "good", "!"}},
	} {
		t.Run(tc.kind+"/"+tc.in, func(t *testing.T) {
			cfg := Config{Kind: tc.kind, Lowercase: tc.lower, Vocab: []string{"<pad>"}, NgramMin: 1, NgramMax: 1, Buckets: 10}
			got := mustNew(t, cfg).Tokens(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

var reviews = []string{
	"Great phone, great battery!",
	"The battery died after a week. Terrible.",
	"Great value; the screen is great.",
	"Terrible support, never again!",
}

var chineseReviews = []string{
	"好评！质量很好，物流很快。",
	"差评，质量太差了。",
	"很好很好，好评",
	"物流太慢，差评！",
}

func TestEncodeWord(t *testing.T) {
	cfg := Fit(reviews, KindWord, FitOptions{Lowercase: true, MaxLen: 8})
	tk := mustNew(t, cfg)
	id := func(tok string) int32 {
		i := slices.Index(cfg.Vocab, tok)
		if i < 0 {
			t.Fatalf("%q not in the vocabulary %q", tok, cfg.Vocab)
		}
		return int32(i)
	}
	for _, tc := range []struct {
		in   string
		want []int32
	}{
		{"GREAT battery", []int32{id("great"), id("battery"), 0, 0, 0, 0, 0, 0}},
		{"great camera!", []int32{id("great"), UnknownID, id("!"), 0, 0, 0, 0, 0}},
		{"", []int32{0, 0, 0, 0, 0, 0, 0, 0}},
		{"the the the the the the the the the the", []int32{id("the"), id("the"), id("the"), id("the"), id("the"), id("the"), id("the"), id("the")}},
		{"Zyx qwv, great.", []int32{UnknownID, UnknownID, id(","), id("great"), id("."), 0, 0, 0}},
	} {
		got := tk.Encode(nil, tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// Very long text: cut to MaxLen.
	long := strings.Repeat("Great phone. ", 200000)
	got := tk.Encode(make([]int32, 0, 8), long)
	want := []int32{id("great"), id("phone"), id("."), id("great"), id("phone"), id("."), id("great"), id("phone")}
	if !slices.Equal(got, want) {
		t.Errorf("long text: %v, want %v", got, want)
	}
	// Encode appends.
	pre := []int32{42}
	got = tk.Encode(pre, "great")
	if len(got) != 9 || got[0] != 42 || got[1] != id("great") {
		t.Errorf("Encode did not append: %v", got)
	}
	// Every training token is known.
	all := mustNew(t, Fit(reviews, KindWord, FitOptions{Lowercase: true}))
	for _, r := range reviews {
		ids := all.Encode(nil, r)
		if len(ids) != len(all.Tokens(r)) || slices.Contains(ids, UnknownID) || slices.Contains(ids, PadID) {
			t.Errorf("training text %q encodes to %v", r, ids)
		}
	}
}

func TestEncodeChar(t *testing.T) {
	cfg := Fit(chineseReviews, KindChar, FitOptions{MaxLen: 6})
	tk := mustNew(t, cfg)
	id := func(tok string) int32 { return int32(slices.Index(cfg.Vocab, tok)) }
	for _, tc := range []struct {
		in   string
		want []int32
	}{
		{"好评", []int32{id("好"), id("评"), 0, 0, 0, 0}},
		{"差评！", []int32{id("差"), id("评"), id("！"), 0, 0, 0}},
		{"好极了", []int32{id("好"), UnknownID, id("了"), 0, 0, 0}},
		{"质量 很好 很好 很好", []int32{id("质"), id("量"), id("很"), id("好"), id("很"), id("好")}},
		{"Good好", []int32{UnknownID, UnknownID, UnknownID, UnknownID, id("好"), 0}},
		{"", []int32{0, 0, 0, 0, 0, 0}},
	} {
		got := tk.Encode(nil, tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, tok := range []string{"好", "评", "差", "，", "。"} {
		if id(tok) < 2 {
			t.Errorf("%q missing from the vocabulary %q", tok, cfg.Vocab)
		}
	}
	// 好 is the most frequent character.
	if cfg.Vocab[2] != "好" {
		t.Errorf("vocabulary %q: want 好 first", cfg.Vocab)
	}
}

// hashRef is the hashing tokenizer's reference: FNV-1a of the n-grams'
// words joined by spaces, by position and then length.
func hashRef(words []string, nmin, nmax, buckets int) []int32 {
	var ids []int32
	for i := range words {
		for n := nmin; n <= nmax && i+n <= len(words); n++ {
			h := fnv.New32a()
			h.Write([]byte(strings.Join(words[i:i+n], " ")))
			ids = append(ids, 2+int32(h.Sum32()%uint32(buckets)))
		}
	}
	return ids
}

func TestEncodeHashNgram(t *testing.T) {
	words := func(s string) []string {
		return mustNew(t, Config{Kind: KindWord, Lowercase: true, Vocab: []string{"x"}}).Tokens(s)
	}
	for _, tc := range []struct {
		in               string
		nmin, nmax, buck int
	}{
		{"Great phone, great battery!", 1, 2, 1000},
		{"Great phone, great battery!", 2, 3, 7},
		{"a b c", 1, 2, 1 << 16},
		{"one", 2, 2, 100},
		{"", 1, 3, 100},
		{"Ünïcödé ÀB\xffc 好评 ok", 1, 4, 97},
	} {
		cfg := Config{Kind: KindHashNgram, Lowercase: true, NgramMin: tc.nmin, NgramMax: tc.nmax, Buckets: tc.buck}
		tk := mustNew(t, cfg)
		want := hashRef(words(tc.in), tc.nmin, tc.nmax, tc.buck)
		got := tk.Encode(nil, tc.in)
		if !slices.Equal(got, want) {
			t.Errorf("%q n=%d..%d: %v, want %v", tc.in, tc.nmin, tc.nmax, got, want)
		}
		if c := tk.Count(tc.in); c != len(want) {
			t.Errorf("%q: Count %d, want %d", tc.in, c, len(want))
		}
		for _, id := range got {
			if id < 2 || int(id) >= tk.VocabSize() {
				t.Errorf("id %d outside 2..%d", id, tk.VocabSize()-1)
			}
		}
		// MaxLen cuts and pads.
		cfg.MaxLen = 3
		got = mustNew(t, cfg).Encode(nil, tc.in)
		w3 := append(append([]int32{}, want[:min(3, len(want))]...), 0, 0, 0)[:3]
		if !slices.Equal(got, w3) {
			t.Errorf("%q MaxLen 3: %v, want %v", tc.in, got, w3)
		}
	}
	// Known value: FNV-1a("a") = 0xe40c292c.
	tk := mustNew(t, Config{Kind: KindHashNgram, NgramMin: 1, NgramMax: 1, Buckets: 1 << 30})
	if got := tk.Encode(nil, "a"); len(got) != 1 || got[0] != 2+int32(0xe40c292c%(1<<30)) {
		t.Errorf("hash of \"a\": %v", got)
	}
}

func TestEncodeBatch(t *testing.T) {
	cfg := Fit(reviews, KindWord, FitOptions{Lowercase: true})
	tk := mustNew(t, cfg)
	texts := []string{"great battery", "", "terrible support, never again!"}
	ids, seq := tk.EncodeBatch(nil, texts)
	if seq != 6 || len(ids) != 18 {
		t.Fatalf("seqLen %d, %d ids; want 6, 18", seq, len(ids))
	}
	for i, s := range texts {
		row := tk.Encode(nil, s)
		for len(row) < seq {
			row = append(row, PadID)
		}
		if !slices.Equal(ids[i*seq:(i+1)*seq], row) {
			t.Errorf("row %d = %v, want %v", i, ids[i*seq:(i+1)*seq], row)
		}
	}
	if ids, seq := tk.EncodeBatch(nil, []string{"", " "}); seq != 0 || len(ids) != 0 {
		t.Errorf("empty batch: %v, %d", ids, seq)
	}
	cfg.MaxLen = 2
	ids, seq = mustNew(t, cfg).EncodeBatch([]int32{}, texts)
	if seq != 2 || len(ids) != 6 || ids[2] != PadID || ids[3] != PadID {
		t.Errorf("MaxLen 2: %v, %d", ids, seq)
	}
}

func TestFit(t *testing.T) {
	texts := []string{"b a c a b a", "C d <pad>", "<unk>"}
	for _, tc := range []struct {
		opts FitOptions
		want []string
	}{
		{FitOptions{Lowercase: true}, []string{"<pad>", "<unk>", "a", "<", ">", "b", "c", "d", "pad", "unk"}},
		{FitOptions{Lowercase: false}, []string{"<pad>", "<unk>", "a", "<", ">", "b", "C", "c", "d", "pad", "unk"}},
		{FitOptions{Lowercase: true, MinCount: 2}, []string{"<pad>", "<unk>", "a", "<", ">", "b", "c"}},
		{FitOptions{Lowercase: true, MaxSize: 4}, []string{"<pad>", "<unk>", "a", "<"}},
		{FitOptions{Lowercase: true, MaxSize: 1}, []string{"<pad>", "<unk>"}},
		{FitOptions{Lowercase: true, MinCount: 100}, []string{"<pad>", "<unk>"}},
	} {
		cfg := Fit(texts, KindWord, tc.opts)
		if !slices.Equal(cfg.Vocab, tc.want) {
			t.Errorf("%+v: vocabulary %q, want %q", tc.opts, cfg.Vocab, tc.want)
		}
		if cfg.Unknown != "<unk>" || cfg.Padding != "<pad>" || cfg.Kind != KindWord || cfg.Lowercase != tc.opts.Lowercase {
			t.Errorf("%+v: config %+v", tc.opts, cfg)
		}
		tk := mustNew(t, cfg)
		if tk.PadID() != PadID || tk.UnknownID() != UnknownID {
			t.Errorf("pad %d unk %d", tk.PadID(), tk.UnknownID())
		}
	}
	// Deterministic whatever the order of the texts.
	rng := rand.New(rand.NewPCG(1, 2))
	base := Fit(reviews, KindWord, FitOptions{Lowercase: true})
	for i := 0; i < 10; i++ {
		shuffled := slices.Clone(reviews)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Fit(shuffled, KindWord, FitOptions{Lowercase: true}); !slices.Equal(got.Vocab, base.Vocab) {
			t.Fatalf("order changes the vocabulary: %q vs %q", got.Vocab, base.Vocab)
		}
	}
	h := Fit(reviews, KindHashNgram, FitOptions{})
	if h.NgramMin != 1 || h.NgramMax != 2 || h.Buckets != DefaultBuckets || len(h.Vocab) != 2 {
		t.Errorf("hash-ngram defaults: %+v", h)
	}
	if tk := mustNew(t, h); tk.VocabSize() != DefaultBuckets+2 {
		t.Errorf("VocabSize %d", tk.VocabSize())
	}
	if h := Fit(nil, KindHashNgram, FitOptions{NgramMin: 3}); h.NgramMax != 3 {
		t.Errorf("NgramMin 3: max %d", h.NgramMax)
	}
	if _, err := New(Fit(reviews, "bpe", FitOptions{})); err == nil {
		t.Error("kind bpe accepted")
	}
}

func TestNewErrors(t *testing.T) {
	v := []string{"<pad>", "<unk>", "a"}
	for name, cfg := range map[string]Config{
		"unknown kind":       {Kind: "sentencepiece", Vocab: v},
		"empty kind":         {Vocab: v},
		"no vocabulary":      {Kind: KindWord},
		"duplicate":          {Kind: KindWord, Vocab: []string{"<pad>", "a", "a"}},
		"unk not in vocab":   {Kind: KindWord, Vocab: v, Unknown: "[UNK]"},
		"pad not in vocab":   {Kind: KindChar, Vocab: v, Padding: "[PAD]"},
		"negative MaxLen":    {Kind: KindWord, Vocab: v, MaxLen: -1},
		"no buckets":         {Kind: KindHashNgram, NgramMin: 1, NgramMax: 2},
		"ngram min 0":        {Kind: KindHashNgram, NgramMin: 0, NgramMax: 2, Buckets: 10},
		"ngram inverted":     {Kind: KindHashNgram, NgramMin: 3, NgramMax: 2, Buckets: 10},
		"ngram too long":     {Kind: KindHashNgram, NgramMin: 1, NgramMax: MaxNgram + 1, Buckets: 10},
		"too many buckets":   {Kind: KindHashNgram, NgramMin: 1, NgramMax: 1, Buckets: math.MaxInt32 - 1},
		"negative buckets":   {Kind: KindHashNgram, NgramMin: 1, NgramMax: 1, Buckets: -5},
		"negative MaxLen #2": {Kind: KindHashNgram, NgramMin: 1, NgramMax: 1, Buckets: 5, MaxLen: -3},
		// 2^31-1 ids: 8 GiB per Encode (13 GB of RSS in edgerun run --text).
		"MaxLen 2^31-1":      {Kind: KindWord, Vocab: v, MaxLen: math.MaxInt32},
		"MaxLen over limit":  {Kind: KindWord, Vocab: v, MaxLen: DefaultMaxSeqLen + 1},
		"MaxLen over raised": {Kind: KindWord, Vocab: v, MaxLen: 1 << 20, MaxSeqLen: 1<<20 - 1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "text: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
}

// TestMaxSeqLen: MaxLen up to the limit is accepted (and Encode appends
// exactly that many ids); Config.MaxSeqLen raises the limit.
func TestMaxSeqLen(t *testing.T) {
	v := []string{"<pad>", "<unk>", "a"}
	tk := mustNew(t, Config{Kind: KindWord, Vocab: v, MaxLen: DefaultMaxSeqLen})
	if got := len(tk.Encode(nil, "a a")); got != DefaultMaxSeqLen {
		t.Errorf("Encode gave %d ids, want %d", got, DefaultMaxSeqLen)
	}
	mustNew(t, Config{Kind: KindWord, Vocab: v, MaxLen: DefaultMaxSeqLen + 1, MaxSeqLen: DefaultMaxSeqLen + 1})
}

func TestUnknownAndPaddingOptional(t *testing.T) {
	// No Unknown: out-of-vocabulary tokens are dropped. No Padding: id 0.
	tk := mustNew(t, Config{Kind: KindWord, Vocab: []string{"x", "good", "phone"}, MaxLen: 4})
	if got := tk.Encode(nil, "good bad phone"); !slices.Equal(got, []int32{1, 2, 0, 0}) {
		t.Errorf("got %v", got)
	}
	if tk.UnknownID() != -1 || tk.Count("good bad phone") != 2 {
		t.Errorf("UnknownID %d, Count %d", tk.UnknownID(), tk.Count("good bad phone"))
	}
	// A padding token other than id 0.
	tk = mustNew(t, Config{Kind: KindWord, Vocab: []string{"good", "[UNK]", "[PAD]"}, Unknown: "[UNK]", Padding: "[PAD]", MaxLen: 3})
	if got := tk.Encode(nil, "good day"); !slices.Equal(got, []int32{0, 1, 2}) {
		t.Errorf("got %v", got)
	}
}

func TestLongTokens(t *testing.T) {
	// A vocabulary entry longer than the lookup's stack buffer still
	// matches after lowercasing; a long unknown token is unknown.
	long := strings.Repeat("ab", 150)
	tk := mustNew(t, Config{Kind: KindWord, Lowercase: true, Vocab: []string{"<pad>", "<unk>", long, "x"}, Unknown: "<unk>"})
	if got := tk.Encode(nil, strings.ToUpper(long)+" X "+strings.Repeat("Q", 500)); !slices.Equal(got, []int32{2, 3, 1}) {
		t.Errorf("got %v", got)
	}
	tk = mustNew(t, Config{Kind: KindWord, Lowercase: true, Vocab: []string{"<pad>", "<unk>", "x"}, Unknown: "<unk>"})
	if got := tk.Encode(nil, strings.Repeat("X", 1000)+" X"); !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("got %v", got)
	}
}

func TestEncodeNoAllocs(t *testing.T) {
	word := mustNew(t, Fit(reviews, KindWord, FitOptions{Lowercase: true, MaxLen: 32}))
	char := mustNew(t, Fit(chineseReviews, KindChar, FitOptions{MaxLen: 32}))
	hash := mustNew(t, Fit(reviews, KindHashNgram, FitOptions{Lowercase: true, MaxLen: 32, NgramMax: 3}))
	unlimited := mustNew(t, Fit(reviews, KindWord, FitOptions{Lowercase: true}))
	dst := make([]int32, 0, 64)
	for _, tc := range []struct {
		name string
		tk   *Tokenizer
		text string
	}{
		{"word", word, "GREAT Phone, TERRIBLE battery — Ünknown wörds, \xff and 好评!"},
		{"word unlimited", unlimited, "Great phone, great battery! The screen is great."},
		{"char", char, "好评！质量很好，物流很快。差评 Good"},
		{"hash-ngram", hash, "GREAT Phone, TERRIBLE battery — Ünknown wörds"},
	} {
		if a := testing.AllocsPerRun(100, func() { dst = tc.tk.Encode(dst[:0], tc.text) }); a != 0 {
			t.Errorf("%s: Encode allocates %v times", tc.name, a)
		}
		if a := testing.AllocsPerRun(100, func() { _ = tc.tk.Count(tc.text) }); a != 0 {
			t.Errorf("%s: Count allocates %v times", tc.name, a)
		}
	}
	batch := make([]int32, 0, 3*32)
	if a := testing.AllocsPerRun(100, func() { batch, _ = word.EncodeBatch(batch[:0], reviews[:3]) }); a != 0 {
		t.Errorf("EncodeBatch allocates %v times", a)
	}
}

func TestConcurrentUse(t *testing.T) {
	tk := mustNew(t, Fit(reviews, KindWord, FitOptions{Lowercase: true, MaxLen: 16}))
	want := tk.Encode(nil, reviews[1])
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]int32, 0, 16)
			for i := 0; i < 200; i++ {
				if got := tk.Encode(dst[:0], reviews[1]); !slices.Equal(got, want) {
					t.Errorf("goroutine got %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestConfigCopy(t *testing.T) {
	cfg := Fit(reviews, KindWord, FitOptions{Lowercase: true})
	tk := mustNew(t, cfg)
	before := tk.Encode(nil, "great")
	cfg.Vocab[2] = "changed"
	c := tk.Config()
	c.Vocab[3] = "changed too"
	if after := tk.Encode(nil, "great"); !slices.Equal(before, after) {
		t.Errorf("mutating the Config changed the tokenizer: %v -> %v", before, after)
	}
	if c.Vocab[2] == "changed" {
		t.Error("New kept the caller's vocabulary slice")
	}
}

func ExampleFit() {
	texts := []string{"好评！质量很好", "差评，太差了", "很好，好评"}
	tk, err := New(Fit(texts, KindChar, FitOptions{MaxLen: 6}))
	if err != nil {
		panic(err)
	}
	fmt.Println(tk.Config().Vocab[:6])
	fmt.Println(tk.Encode(nil, "好评"))
	fmt.Println(tk.Encode(nil, "非常好"))
	// Output:
	// [<pad> <unk> 好 评 差 很]
	// [2 3 0 0 0 0]
	// [1 1 2 0 0 0]
}
