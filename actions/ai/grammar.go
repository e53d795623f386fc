package ai

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FixGrammar applies the offline provider's small rule set to markdown and returns the fixed
// text with one Change per fix: common misspellings, repeated words, extra spaces and spaces
// before punctuation, a lowercase letter after a full stop, and a lowercase pronoun "i".
//
// Only prose is touched: front matter, fenced and indented code, HTML lines, link reference
// definitions, inline code, link destinations and URLs are left exactly as they are. The
// rules are deliberately conservative: a fix they cannot be sure of is not made.
func FixGrammar(markdown string) (string, []Change) {
	g := newGrammar()
	lines := strings.Split(markdown, "\n")
	changes := []Change{}
	var fence string // the open code fence, "" outside code
	for i, line := range lines {
		switch {
		case i == 0 && strings.TrimSpace(line) == "---":
			fence = "---"
			continue
		case fence == "---":
			if strings.TrimSpace(line) == "---" {
				fence = ""
			}
			continue
		case fence != "":
			if closesFence(line, fence) {
				fence = ""
			}
			continue
		}
		if f := opensFence(line); f != "" {
			fence = f
			continue
		}
		if g.skipLine(line) {
			continue
		}
		var fixed []Change
		lines[i], fixed = g.fixLine(line)
		changes = append(changes, fixed...)
	}
	return strings.Join(lines, "\n"), changes
}

// grammar holds the compiled rules.
type grammar struct {
	misspelled  *regexp.Regexp
	corrections map[string]string
	protected   *regexp.Regexp
	refDef      *regexp.Regexp
	extraSpaces *regexp.Regexp
	spacePunct  *regexp.Regexp
	sentence    *regexp.Regexp
	pronounI    *regexp.Regexp
	word        *regexp.Regexp
}

func newGrammar() *grammar {
	corrections := map[string]string{
		"teh": "the", "recieve": "receive", "recieved": "received", "seperate": "separate",
		"definately": "definitely", "occured": "occurred", "occurence": "occurrence",
		"untill": "until", "wich": "which", "accomodate": "accommodate", "adress": "address",
		"begining": "beginning", "beleive": "believe", "calender": "calendar",
		"enviroment": "environment", "goverment": "government", "independant": "independent",
		"neccessary": "necessary", "occassion": "occasion", "publically": "publicly",
		"reccomend": "recommend", "recomend": "recommend", "refered": "referred",
		"succesful": "successful", "successfull": "successful", "tommorow": "tomorrow",
		"truely": "truly", "wierd": "weird", "alot": "a lot", "existance": "existence",
		"noticable": "noticeable", "arguement": "argument", "concious": "conscious",
		"persistant": "persistent", "acheive": "achieve", "thier": "their",
		"apparantly": "apparently", "basicly": "basically",
		"comittee": "committee", "completly": "completely", "dependancy": "dependency",
		"embarass": "embarrass", "finaly": "finally", "foriegn": "foreign", "freind": "friend",
		"grammer": "grammar", "immediatly": "immediately", "knowlege": "knowledge",
		"lenght": "length", "maintainance": "maintenance", "occuring": "occurring",
		"perfomance": "performance", "posession": "possession", "prefered": "preferred",
		"realy": "really", "relevent": "relevant", "resouce": "resource", "responsability": "responsibility",
		"similiar": "similar", "sucess": "success", "supress": "suppress", "wether": "whether",
		"writting": "writing", "becuase": "because", "probaly": "probably", "usefull": "useful",
	}
	words := make([]string, 0, len(corrections))
	for w := range corrections {
		words = append(words, w)
	}
	return &grammar{
		misspelled:  regexp.MustCompile(`(?i)\b(` + strings.Join(words, "|") + `)\b`),
		corrections: corrections,
		// Inline spans the rules never touch: code spans are handled separately; these are
		// link destinations, autolinks and HTML tags, bare URLs, and e-mail-like tokens.
		protected:   regexp.MustCompile(`\]\([^)]*\)|<[^<>\s]+(\s[^<>]*)?>|(?i:https?://|www\.)[^\s)>\]]+|\S+@\S+\.\S+`),
		refDef:      regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s`),
		extraSpaces: regexp.MustCompile(` {2,}`),
		spacePunct:  regexp.MustCompile(`([\p{L}\p{N}]+) +([,;:!?.])(\s|$)`),
		sentence:    regexp.MustCompile(`[.!?] +(\p{Ll}+)\b`),
		pronounI:    regexp.MustCompile(`(\s)i(\s|'m\b|'ve\b|'d\b|'ll\b)`),
		word:        regexp.MustCompile(`[\p{L}']+`),
	}
}

// skipLine reports lines that are not prose: indented code, HTML blocks, reference links.
func (g *grammar) skipLine(line string) bool {
	if strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") {
		return true
	}
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, "<") || strings.HasPrefix(t, "|") && strings.Count(t, "-") > 2 && strings.Trim(t, "|-: ") == "" ||
		g.refDef.MatchString(line)
}

// fixLine applies every rule to the prose segments of one line.
func (g *grammar) fixLine(line string) (string, []Change) {
	var out strings.Builder
	var changes []Change
	for _, seg := range g.segments(line) {
		if seg.protected {
			out.WriteString(seg.text)
			continue
		}
		text := seg.text
		for _, rule := range []func(string) (string, []Change){g.fixSpelling, g.fixRepeats, g.fixSpacing, g.fixCapitals} {
			var c []Change
			text, c = rule(text)
			changes = append(changes, c...)
		}
		out.WriteString(text)
	}
	return out.String(), changes
}

type segment struct {
	text      string
	protected bool
}

// segments splits a line into prose and protected spans (code spans, URLs, link targets).
func (g *grammar) segments(line string) []segment {
	var segs []segment
	for line != "" {
		start, end := g.nextProtected(line)
		if start < 0 {
			segs = append(segs, segment{text: line})
			break
		}
		if start > 0 {
			segs = append(segs, segment{text: line[:start]})
		}
		segs = append(segs, segment{text: line[start:end], protected: true})
		line = line[end:]
	}
	return segs
}

// nextProtected finds the first protected span of s: a code span (a run of backticks up to
// the next run of the same length, or the rest of the line if unclosed) or a g.protected match.
func (g *grammar) nextProtected(s string) (int, int) {
	start, end := -1, -1
	if loc := g.protected.FindStringIndex(s); loc != nil {
		start, end = loc[0], loc[1]
	}
	if tick := strings.IndexByte(s, '`'); tick >= 0 && (start < 0 || tick < start) {
		n := tick
		for n < len(s) && s[n] == '`' {
			n++
		}
		run := s[tick:n]
		close := n
		for {
			i := strings.Index(s[close:], run)
			if i < 0 {
				return tick, len(s)
			}
			j := close + i + len(run)
			if j == len(s) || s[j] != '`' {
				return tick, j
			}
			for j < len(s) && s[j] == '`' {
				j++
			}
			close = j
		}
	}
	return start, end
}

func (g *grammar) fixSpelling(s string) (string, []Change) {
	var changes []Change
	out := g.misspelled.ReplaceAllStringFunc(s, func(w string) string {
		fix := matchCase(w, g.corrections[strings.ToLower(w)])
		changes = append(changes, Change{Original: w, Revised: fix, Reason: fmt.Sprintf("common misspelling of %q", fix)})
		return fix
	})
	return out, changes
}

// fixRepeats removes a word that repeats the word before it ("the the"), except words that
// legitimately repeat in English ("had had", "that that").
func (g *grammar) fixRepeats(s string) (string, []Change) {
	allowed := map[string]bool{"that": true, "had": true, "is": true, "no": true, "so": true, "bye": true, "ha": true, "yeah": true, "very": true}
	var changes []Change
	var out strings.Builder
	last, prevStart, prevEnd := 0, -1, -1
	for _, loc := range g.word.FindAllStringIndex(s, -1) {
		w := s[loc[0]:loc[1]]
		if prevEnd >= 0 && strings.TrimLeft(s[prevEnd:loc[0]], " ") == "" && loc[0] > prevEnd &&
			strings.EqualFold(w, s[prevStart:prevEnd]) && !allowed[strings.ToLower(w)] {
			out.WriteString(s[last:prevEnd])
			last = loc[1]
			changes = append(changes, Change{Original: s[prevStart:loc[1]], Revised: s[prevStart:prevEnd], Reason: fmt.Sprintf("repeated word %q", w)})
			continue // the kept word stays "previous", so "the the the" loses both extras
		}
		prevStart, prevEnd = loc[0], loc[1]
	}
	out.WriteString(s[last:])
	return out.String(), changes
}

// fixSpacing collapses runs of spaces between words and removes spaces before punctuation.
// Leading indentation, the gap after a list or heading marker, and trailing spaces (a
// markdown hard line break) are kept.
func (g *grammar) fixSpacing(s string) (string, []Change) {
	var changes []Change
	var out strings.Builder
	last := 0
	for _, loc := range g.extraSpaces.FindAllStringIndex(s, -1) {
		if loc[0] == 0 || loc[1] == len(s) || strings.TrimLeft(s[:loc[0]], " \t-*+>#0123456789.)") == "" {
			continue
		}
		out.WriteString(s[last:loc[0]])
		out.WriteString(" ")
		last = loc[1]
		before, after := lastWord(s[:loc[0]]), firstWord(s[loc[1]:])
		changes = append(changes, Change{Original: before + s[loc[0]:loc[1]] + after, Revised: before + " " + after, Reason: "extra spaces between words"})
	}
	out.WriteString(s[last:])
	s = out.String()
	s = g.spacePunct.ReplaceAllStringFunc(s, func(m string) string {
		p := g.spacePunct.FindStringSubmatch(m)
		changes = append(changes, Change{Original: strings.TrimSpace(m), Revised: p[1] + p[2], Reason: "no space before punctuation"})
		return p[1] + p[2] + p[3]
	})
	return s, changes
}

func lastWord(s string) string {
	return s[strings.LastIndexAny(s, " \t")+1:]
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// fixCapitals capitalises a lowercase word that starts a sentence after a full stop,
// question or exclamation mark (not after abbreviations such as "e.g." or an ellipsis), and
// the pronoun "i".
func (g *grammar) fixCapitals(s string) (string, []Change) {
	abbreviations := map[string]bool{"e.g": true, "i.e": true, "etc": true, "vs": true, "cf": true, "approx": true,
		"mr": true, "mrs": true, "ms": true, "dr": true, "st": true, "no": true, "fig": true, "al": true,
		"incl": true, "min": true, "max": true, "p": true, "pp": true, "vol": true, "ch": true, "sec": true, "v": true}
	var changes []Change
	var out strings.Builder
	last := 0
	for _, loc := range g.sentence.FindAllStringSubmatchIndex(s, -1) {
		mark, next := s[loc[0]], s[loc[2]:loc[3]]
		prev := strings.ToLower(strings.Trim(lastWord(s[:loc[0]]), `()"'`))
		// Skip when no word ends the sentence (an ellipsis, a stray mark), or the full stop
		// ends an abbreviation or an initial.
		if prev == "" || strings.HasSuffix(prev, ".") ||
			mark == '.' && (abbreviations[prev] || utf8.RuneCountInString(prev) == 1) {
			continue
		}
		r, size := utf8.DecodeRuneInString(next)
		fixed := string(unicode.ToUpper(r)) + next[size:]
		out.WriteString(s[last:loc[2]])
		out.WriteString(fixed)
		last = loc[3]
		orig := lastWord(s[:loc[0]]) + s[loc[0]:loc[3]]
		changes = append(changes, Change{Original: orig, Revised: strings.Replace(orig, next, fixed, 1), Reason: "a sentence starts with a capital letter"})
	}
	out.WriteString(s[last:])
	s = out.String()
	s = g.pronounI.ReplaceAllStringFunc(s, func(m string) string {
		fix := strings.Replace(m, "i", "I", 1)
		changes = append(changes, Change{Original: strings.TrimSpace(m), Revised: strings.TrimSpace(fix), Reason: `the pronoun "I" is capitalised`})
		return fix
	})
	return s, changes
}

// matchCase gives fix the capitalisation of w: all caps, a leading capital, or lowercase.
func matchCase(w, fix string) string {
	switch {
	case len(w) > 1 && strings.ToUpper(w) == w:
		return strings.ToUpper(fix)
	case unicode.IsUpper([]rune(w)[0]):
		r, size := utf8.DecodeRuneInString(fix)
		return string(unicode.ToUpper(r)) + fix[size:]
	}
	return fix
}

// opensFence returns the fence marker ("```", "~~~~") a line opens, or "".
func opensFence(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return ""
	}
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(t) && t[n] == c {
			n++
		}
		if n >= 3 {
			return t[:n]
		}
	}
	return ""
}

// closesFence reports whether line closes the fence opened by marker.
func closesFence(line, marker string) bool {
	t := strings.TrimSpace(line)
	return len(line)-len(strings.TrimLeft(line, " ")) <= 3 && strings.HasPrefix(t, marker) && strings.Trim(t, marker[:1]) == ""
}
