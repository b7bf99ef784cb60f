package cluster

import (
	"fmt"
	"strings"

	"github.com/hashicorp/memberlist"
)

// setKeyring makes memberlist encrypt gossip (AES-GCM) with keys[0] and
// accept what any of keys decrypts, so that keys rotate by rolling
// restarts: add the new key second, then make it first, then drop the
// old one. GossipVerifyIncoming and Outgoing stay on (memberlist's
// default): nothing in the clear is sent or accepted.
func setKeyring(mc *memberlist.Config, keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	kr, err := memberlist.NewKeyring(keys, keys[0])
	if err != nil {
		return fmt.Errorf("cluster_key: %w", err)
	}
	mc.Keyring = kr
	mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	return nil
}

// validKeyLen reports whether n is an AES key size memberlist takes.
func validKeyLen(n int) bool { return n == 16 || n == 24 || n == 32 }

// keyMismatch recognises memberlist's words for gossip that this node's
// keyring cannot read (they come as error text only) and says what they
// mean in terms of cluster_key, as seen from this node.
func keyMismatch(text string) (reason string, ok bool) {
	switch {
	case strings.Contains(text, "encryption is configured but remote state is not encrypted"):
		return "the peer sends gossip in the clear (no cluster_key) and this node encrypts it", true
	case strings.Contains(text, "remote state is encrypted and encryption is not configured"):
		return "the peer encrypts gossip with a cluster_key and this node has none", true
	case strings.Contains(text, "no installed keys could decrypt"):
		return "the peer's gossip is encrypted with a cluster_key this node does not have", true
	case strings.Contains(text, "Decrypt packet failed"):
		return "the peer's packet is not encrypted with a cluster_key this node has", true
	}
	return "", false
}

// explainJoin names a key mismatch in a failed join's error: memberlist
// says "remote state is encrypted and encryption is not configured".
func explainJoin(err error) error {
	if err == nil {
		return nil
	}
	if reason, ok := keyMismatch(err.Error()); ok {
		return fmt.Errorf("%w: %s (%s)", ErrGossipKey, reason, joinFailures(err))
	}
	return err
}

// joinFailures is memberlist's joined join errors on one line, without
// the multierror dressing ("1 error occurred:", "* ").
func joinFailures(err error) string {
	var parts []string
	for line := range strings.SplitSeq(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "* "))
		if line != "" && !strings.HasSuffix(line, "occurred:") {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// gossipRefused is the line logged for a peer refused for its key.
const gossipRefused = "gossip refused: cluster_key mismatch"

// refusedGossip finds, in a line memberlist logged, a stream or packet
// refused for its key and the address it came from ("from=IP:PORT").
func refusedGossip(line string) (reason, peer string, ok bool) {
	i := strings.LastIndex(line, "from=")
	if i < 0 {
		return "", "", false
	}
	if reason, ok = keyMismatch(line); !ok {
		return "", "", false
	}
	peer, _, _ = strings.Cut(line[i+len("from="):], " ")
	return reason, peer, true
}
