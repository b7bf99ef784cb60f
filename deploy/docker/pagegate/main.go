// Command pagegate is the compose demo's door to the fleet's status
// pages. A moxi admin server bound to 0.0.0.0 (as it must be in a
// container, to be reachable at all) refuses to start without a token,
// and a browser cannot send "Authorization: Bearer": pagegate adds the
// token to every request it forwards, so that http://127.0.0.1:8290 opens
// in a browser. It is for the demo only: whoever reaches it reads the
// status, so compose publishes it on the host's loopback alone.
//
//	pagegate -token-file F -route 0.0.0.0:8290=node1:8290 [-route ...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"
)

// routes is the repeatable -route LISTEN=TARGET flag.
type routes map[string]string

func (r routes) String() string { return fmt.Sprint(map[string]string(r)) }

func (r routes) Set(v string) error {
	listen, target, ok := strings.Cut(v, "=")
	if !ok || listen == "" || target == "" {
		return fmt.Errorf("want LISTEN=TARGET, got %q", v)
	}
	r[listen] = target
	return nil
}

func main() {
	rs := routes{}
	tokenFile := flag.String("token-file", "", "the fleet's admin_token_file")
	flag.Var(rs, "route", "`LISTEN=HOST:PORT`: serve on LISTEN the admin server at HOST:PORT (repeatable)")
	flag.Parse()
	tok, err := readToken(*tokenFile)
	if err == nil && len(rs) == 0 {
		err = errors.New("no -route")
	}
	if err != nil {
		log.Fatalf("pagegate: %v", err)
	}
	errs := make(chan error, len(rs))
	for listen, target := range rs {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			log.Fatalf("pagegate: %v", err)
		}
		srv := &http.Server{Handler: gate(target, tok), ReadHeaderTimeout: 5 * time.Second}
		go func() { errs <- srv.Serve(ln) }()
		log.Printf("pagegate: %s -> %s", listen, target)
	}
	log.Fatalf("pagegate: %v", <-errs)
}

// readToken is the token file's content, spaces trimmed, as moxi reads it.
func readToken(path string) (string, error) {
	if path == "" {
		return "", errors.New("-token-file is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return tok, nil
}

// gate forwards every request to the admin server at target (HOST:PORT,
// plain HTTP) with the bearer token added.
func gate(target, token string) http.Handler {
	p := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	direct := p.Director
	p.Director = func(r *http.Request) {
		direct(r)
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return p
}
