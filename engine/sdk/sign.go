package sdk

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// SignatureTolerance is how far a signature's timestamp may be from now (the SDKs' bound).
const SignatureTolerance = 5 * time.Minute

var keyPrefix = regexp.MustCompile(`^signkey-\w+-`)

// Canonical returns the RFC 8785 (JCS) form of a JSON document: keys sorted by UTF-16 code
// units, no whitespace, strings and numbers as ECMAScript writes them. Both SDKs canonicalize
// a body before checking its signature, so inkflow signs and sends exactly these bytes.
func Canonical(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("canonical json: more than one value")
	}
	var buf bytes.Buffer
	buf.Grow(len(doc))
	if err := writeCanonical(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeCanonical(buf *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(t))
	case json.Number:
		if isSmallInt(string(t)) { // most numbers: written as they came
			if t == "-0" {
				t = "0"
			}
			buf.WriteString(string(t))
			return nil
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.IsInf(f, 0) {
			return fmt.Errorf("canonical json: number %s is out of range", t)
		}
		buf.WriteString(esNumber(f))
	case string:
		writeESString(buf, t)
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeCanonical(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareUTF16)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeESString(buf, k)
			buf.WriteByte(':')
			if err := writeCanonical(buf, t[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		return fmt.Errorf("canonical json: unexpected %T", v)
	}
	return nil
}

// isSmallInt reports whether a JSON number literal is an integer of at most 15 digits, which
// ECMAScript writes exactly as JSON does (but "-0", as "0").
func isSmallInt(n string) bool {
	d := strings.TrimPrefix(n, "-")
	if d == "" || len(d) > 15 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// compareUTF16 orders strings by their UTF-16 code units, as JCS sorts keys. UTF-8 byte order
// is the same unless a string holds a character at or above U+E000 (UTF-8 lead byte 0xEE and
// up), where surrogate pairs sort below U+E000-U+FFFF: only then are the strings converted.
func compareUTF16(a, b string) int {
	if !hasHighBMP(a) && !hasHighBMP(b) {
		return strings.Compare(a, b)
	}
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return int(ua[i]) - int(ub[i])
		}
	}
	return len(ua) - len(ub)
}

func hasHighBMP(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xEE {
			return true
		}
	}
	return false
}

// writeESString writes s as JSON.stringify does: only '"', '\\' and control characters are
// escaped (no HTML escaping, unlike encoding/json).
func writeESString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0 // s[start:i] needs no escaping and is written in one piece
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf.WriteString(s[start:i])
		switch c {
		case '"':
			buf.WriteString(`\"`)
		case '\\':
			buf.WriteString(`\\`)
		case '\b':
			buf.WriteString(`\b`)
		case '\f':
			buf.WriteString(`\f`)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		case '\t':
			buf.WriteString(`\t`)
		default:
			fmt.Fprintf(buf, `\u%04x`, c)
		}
		start = i + 1
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

// esNumber formats f as ECMAScript's Number.prototype.toString does.
func esNumber(f float64) string {
	if f == 0 {
		return "0"
	}
	neg := f < 0
	if neg {
		f = -f
	}
	// Shortest round-tripping digits and their exponent.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddddde±xx
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1 // n: position of the decimal point
	var out string
	switch {
	case k <= n && n <= 21:
		out = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		out = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		out = "0." + strings.Repeat("0", -n) + digits
	default:
		out = digits[:1]
		if k > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if n-1 < 0 {
			sign = "-"
		}
		out += "e" + sign + strconv.Itoa(abs(n-1))
	}
	if neg {
		return "-" + out
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Sign returns the X-Inngest-Signature value for body at t: "t=<unix s>&s=<hex HMAC-SHA256
// of canonical(body) followed by t>", keyed with the signing key minus its "signkey-<env>-"
// prefix (as text, not hex-decoded), and the canonical body that was signed: send those bytes.
func Sign(body []byte, key string, t time.Time) (header string, canonical []byte, err error) {
	canonical, err = Canonical(body)
	if err != nil {
		return "", nil, err
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + "&s=" + mac(canonical, key, ts), canonical, nil
}

func mac(canonical []byte, key, ts string) string {
	h := hmac.New(sha256.New, []byte(keyPrefix.ReplaceAllString(key, "")))
	h.Write(canonical)
	h.Write([]byte(ts))
	return hex.EncodeToString(h.Sum(nil))
}

// Verify checks header against body with any of keys (the signing key and its fallback),
// refusing a timestamp more than SignatureTolerance from now.
func Verify(body []byte, header string, now time.Time, keys ...string) error {
	ts, sig, err := parseSignature(header, now)
	if err != nil {
		return err
	}
	canonical, err := Canonical(body)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	return matchSignature(canonical, ts, sig, keys)
}

// VerifyAnswer checks the X-Inngest-Signature of an app's answer: the SDKs sign the bytes they
// send as they are, not canonicalized (inngest-js signs its response body string; inngestgo
// signs the JSON it encodes, before its encoder's trailing newline, which is trimmed here).
func VerifyAnswer(body []byte, header string, now time.Time, keys ...string) error {
	ts, sig, err := parseSignature(header, now)
	if err != nil {
		return err
	}
	return matchSignature(bytes.TrimSuffix(body, []byte("\n")), ts, sig, keys)
}

// parseSignature reads "t=<unix s>&s=<hex>", refusing a timestamp more than
// SignatureTolerance from now.
func parseSignature(header string, now time.Time) (ts, sig string, err error) {
	for _, part := range strings.Split(header, "&") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "s":
			sig = v
		}
	}
	if ts == "" || sig == "" {
		return "", "", fmt.Errorf("signature: missing or malformed %s", HeaderSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", "", fmt.Errorf("signature: timestamp %q is not a number", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > SignatureTolerance || d < -SignatureTolerance {
		return "", "", fmt.Errorf("signature: timestamp is %s from now, more than %s", d.Round(time.Second), SignatureTolerance)
	}
	return ts, sig, nil
}

func matchSignature(signed []byte, ts, sig string, keys []string) error {
	for _, k := range keys {
		if k != "" && subtle.ConstantTimeCompare([]byte(mac(signed, k, ts)), []byte(sig)) == 1 {
			return nil
		}
	}
	return fmt.Errorf("signature: does not match the signing key")
}

// HashedKey is what an SDK sends as "Authorization: Bearer <HashedKey(key)>": the prefix kept,
// the rest hex-decoded and hashed with SHA-256. A key that is not hex hashes as its text.
func HashedKey(key string) string {
	prefix := keyPrefix.FindString(key)
	rest := strings.TrimPrefix(key, prefix)
	raw, err := hex.DecodeString(rest)
	if err != nil {
		raw = []byte(rest)
	}
	sum := sha256.Sum256(raw)
	return prefix + hex.EncodeToString(sum[:])
}

// HashStepID is how every SDK names a step on the wire: hex(sha1(id)). inkflow never needs it
// to run a function (it stores the ids the SDK sends); tests and fakes use it.
func HashStepID(id string) string {
	sum := sha1.Sum([]byte(id))
	return hex.EncodeToString(sum[:])
}
