package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/moxifleet/moxi/internal/tlsconf"
	"github.com/moxifleet/moxi/node"
)

// runStatus is "moxi status [-watch] [-interval D] [-ca F -cert F -key F]
// [HOST:PORT]": it prints a node's /status as tables, from the local admin
// address by default; -watch redraws them every interval, like top, until
// SIGINT or SIGTERM. A fleet with cluster TLS answers /status over HTTPS
// to a certificate of its CA only: -ca, -cert and -key name them.
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("moxi status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	watch := fs.Bool("watch", false, "redraw the tables every -interval until interrupted")
	interval := fs.Duration("interval", time.Second, "how often -watch redraws")
	var files tlsconf.Files
	fs.StringVar(&files.CA, "ca", "", "with cluster TLS: the fleet's CA (cluster_tls_ca)")
	fs.StringVar(&files.Cert, "cert", "", "with cluster TLS: a certificate the CA signed (a node's will do)")
	fs.StringVar(&files.Key, "key", "", "with cluster TLS: that certificate's key")
	tokenFile := fs.String("token-file", "", "the node's admin_token_file: its token is sent as a bearer token")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	addr := node.DefaultAdminListen
	if fs.NArg() > 0 {
		addr = fs.Arg(0)
	}
	client, err := statusClient(files)
	if err == nil && *tokenFile != "" {
		err = withToken(client, *tokenFile)
	}
	if err != nil {
		fmt.Fprintf(stderr, "moxi: status: %v\n", err)
		return exitConfig
	}
	if *watch {
		if *interval <= 0 {
			fmt.Fprintln(stderr, "moxi: status: -interval must be positive")
			return exitConfig
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		watchStatus(ctx, client, addr, *interval, stdout)
		return exitOK
	}
	st, err := fetchStatus(client, addr)
	if err != nil {
		fmt.Fprintf(stderr, "moxi: status: %v\n", err)
		return exitConfig
	}
	printStatus(stdout, st)
	return exitOK
}

// clearScreen homes the cursor and clears the terminal (ANSI).
const clearScreen = "\x1b[H\x1b[2J"

// watchStatus redraws addr's status every interval until ctx ends. A
// failed fetch is shown in place of the tables, and the next try goes on.
func watchStatus(ctx context.Context, client *http.Client, addr string, interval time.Duration, w io.Writer) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		var buf strings.Builder
		buf.WriteString(clearScreen)
		fmt.Fprintf(&buf, "moxi status %s  %s  (every %v; Ctrl-C to stop)\n\n", addr, time.Now().Format(time.TimeOnly), interval)
		if st, err := fetchStatus(client, addr); err != nil {
			fmt.Fprintf(&buf, "status: %v\n", err)
		} else {
			printStatus(&buf, st)
		}
		_, _ = io.WriteString(w, buf.String()) // one write per frame: no flicker
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// statusClient is the client of moxi status: plain, or with the fleet's
// CA and a certificate it signed (the three flags go together).
func statusClient(f tlsconf.Files) (*http.Client, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	if f == (tlsconf.Files{}) {
		return c, nil
	}
	if f.CA == "" || f.Cert == "" || f.Key == "" {
		return nil, errors.New("-ca, -cert and -key go together")
	}
	_, cfg, err := tlsconf.Mutual(f)
	if err != nil {
		return nil, fmt.Errorf("cluster TLS: %w", err)
	}
	c.Transport = &http.Transport{TLSClientConfig: cfg}
	return c, nil
}

// fetchStatus GETs addr's /status; an address without a scheme is
// http://, or https:// when the client has a certificate.
func fetchStatus(client *http.Client, addr string) (*node.Status, error) {
	if !strings.Contains(addr, "://") {
		scheme := "http://"
		tr, ok := client.Transport.(*http.Transport)
		if b, isBearer := client.Transport.(bearer); isBearer {
			tr, ok = b.next, true
		}
		if ok && tr.TLSClientConfig != nil {
			scheme = "https://"
		}
		addr = scheme + addr
	}
	resp, err := client.Get(strings.TrimSuffix(addr, "/") + "/status")
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", addr, resp.Status)
	}
	var st node.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("decode %s: %w", addr, err)
	}
	return &st, nil
}

func printStatus(w io.Writer, st *node.Status) {
	fmt.Fprintf(w, "node %s  raft %s  term %d  leader %s  last index %d  applied %d  serving %v\n",
		st.Node, st.RaftState, st.Term, st.Leader, st.LastIndex, st.Applied, st.Serving)
	fmt.Fprintf(w, "source %s\n\n", st.Source)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tADDRESS\tGOSSIP\tRAFT\tVERSION")
	for _, m := range st.Members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Name, m.Addr, m.Gossip, m.Role, m.Version)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "PORT\tBUCKET\tVERSION\tSERVERS\tAPPLIED\tSOURCE")
	for _, m := range st.Maps {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\n", m.Port, m.Bucket, m.Version, m.Servers,
			m.AppliedAt.Format(time.RFC3339), m.Source)
	}
	_ = tw.Flush()
}

// bearer sends a token with every request (moxi status -token-file).
type bearer struct {
	token string
	next  *http.Transport
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// withToken makes client send the token in file.
func withToken(client *http.Client, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("-token-file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return fmt.Errorf("-token-file %s is empty", file)
	}
	tr, ok := client.Transport.(*http.Transport)
	if !ok || tr == nil {
		tr = &http.Transport{} // plain HTTP: fetchStatus picks https only for a TLS config
	}
	client.Transport = bearer{token: tok, next: tr}
	return nil
}
