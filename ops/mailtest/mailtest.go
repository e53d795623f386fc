// Package mailtest is a tiny SMTP server for tests: the edge of the world that send_email
// talks to. It accepts every message (AUTH PLAIN included) and hands it to the test, except
// for recipients whose address starts with "reject" (550, permanent) or "later" (451,
// temporary).
package mailtest

import (
	"bufio"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
)

// Message is one message as the server received it.
type Message struct {
	From string
	To   []string
	// Data is the message as sent (headers and body, CRLF line ends, dot-unstuffed).
	Data string
	// Auth is "user:password" when the client authenticated.
	Auth string
}

// Server is a running SMTP server.
type Server struct {
	// Addr is host:port to dial.
	Addr string
	// Messages receives each accepted message.
	Messages chan Message
	l        net.Listener
	wg       sync.WaitGroup
}

// Start listens on a free local port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: l.Addr().String(), Messages: make(chan Message, 100), l: l}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { l.Close(); s.wg.Wait() })
	return s
}

// URL returns an SMTP_URL for this server with optional credentials.
func (s *Server) URL(userinfo string) string {
	if userinfo != "" {
		userinfo += "@"
	}
	return "smtp://" + userinfo + s.Addr + "?from=inkflow@example.com"
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.session(c) }()
	}
}

func (s *Server) session(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 mailtest ready")
	var m Message
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			_ = tp.PrintfLine("250-mailtest\r\n250-8BITMIME\r\n250 AUTH PLAIN")
		case "AUTH":
			fields := strings.Fields(arg)
			if len(fields) == 2 {
				raw, _ := base64.StdEncoding.DecodeString(fields[1])
				parts := strings.Split(string(raw), "\x00")
				if len(parts) == 3 {
					m.Auth = parts[1] + ":" + parts[2]
				}
			}
			_ = tp.PrintfLine("235 ok")
		case "MAIL":
			m.From = address(arg)
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			to := address(arg)
			switch {
			case strings.HasPrefix(to, "reject"):
				_ = tp.PrintfLine("550 no such user")
			case strings.HasPrefix(to, "later"):
				_ = tp.PrintfLine("451 try again later")
			default:
				m.To = append(m.To, to)
				_ = tp.PrintfLine("250 ok")
			}
		case "DATA":
			_ = tp.PrintfLine("354 go ahead")
			data, err := readData(tp.Reader.R)
			if err != nil {
				return
			}
			m.Data = data
			s.Messages <- m
			m = Message{Auth: m.Auth}
			_ = tp.PrintfLine("250 queued")
		case "RSET":
			m = Message{Auth: m.Auth}
			_ = tp.PrintfLine("250 ok")
		case "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 not implemented")
		}
	}
}

// readData reads the DATA section up to the lone dot, undoing dot-stuffing.
func readData(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if line == ".\r\n" {
			return b.String(), nil
		}
		b.WriteString(strings.TrimPrefix(line, "."))
	}
}

func address(arg string) string {
	if i := strings.Index(arg, "<"); i >= 0 {
		if j := strings.Index(arg[i:], ">"); j >= 0 {
			return arg[i+1 : i+j]
		}
	}
	return strings.TrimSpace(arg)
}
