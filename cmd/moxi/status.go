package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/moxifleet/moxi/node"
)

// runStatus is "moxi status [HOST:PORT]": it prints a node's /status as
// tables, from the local admin address by default.
func runStatus(args []string, stdout, stderr io.Writer) int {
	addr := node.DefaultAdminListen
	if len(args) > 0 {
		addr = args[0]
	}
	st, err := fetchStatus(addr)
	if err != nil {
		fmt.Fprintf(stderr, "moxi: status: %v\n", err)
		return exitConfig
	}
	printStatus(stdout, st)
	return exitOK
}

func fetchStatus(addr string) (*node.Status, error) {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	client := &http.Client{Timeout: 5 * time.Second}
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
