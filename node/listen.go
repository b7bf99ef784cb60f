package node

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"strconv"
)

// EnvPortFile names the file the built-in server's TCP port is written
// to, as memcached does for test harnesses that start it with -p 0.
const EnvPortFile = "MEMCACHED_PORT_FILENAME"

// ListenError reports a port or socket that could not be bound; cmd/moxi
// exits with EX_OSERR for it.
type ListenError struct {
	msg string
	Err error
}

func (e *ListenError) Error() string { return e.msg + " (" + e.Err.Error() + ")" }

func (e *ListenError) Unwrap() error { return e.Err }

// boundListener is a bound listener and the server loop that will serve it.
type boundListener struct {
	ln    net.Listener
	serve func(net.Listener) error
	name  string // for logs
}

// bind binds every listener before anything is served, the built-in
// server first as in the original (so a moxi can proxy to itself). On
// failure it closes what it had already bound.
func (n *Node) bind() ([]boundListener, error) {
	var out []boundListener
	fail := func(err error) ([]boundListener, error) {
		for _, b := range out {
			_ = b.ln.Close()
		}
		return nil, err
	}
	if n.mem != nil {
		b, err := n.bindMem()
		if err != nil {
			return fail(err)
		}
		out = append(out, b)
	}
	for _, port := range n.proxyPorts() {
		b, err := n.bindProxy(port)
		if err != nil {
			return fail(err)
		}
		out = append(out, b)
	}
	return out, nil
}

// proxyPorts lists each port the proxy serves once, in config order:
// several buckets may share one (REST sections all use port_listen).
func (n *Node) proxyPorts() []int {
	var ports []int
	for _, b := range n.proxyCfg.Buckets {
		if !slices.Contains(ports, b.Port) {
			ports = append(ports, b.Port)
		}
	}
	for _, p := range n.proxyCfg.Pools {
		if !slices.Contains(ports, p.Port) {
			ports = append(ports, p.Port)
		}
	}
	return ports
}

// bindMem binds the built-in server on -s or -p and, if asked, writes the
// port file.
func (n *Node) bindMem() (boundListener, error) {
	b := boundListener{serve: n.mem.Serve}
	if n.opts.Socket != "" {
		ln, err := listenUnix(n.opts.Socket, n.opts.SocketMode)
		if err != nil {
			return b, &ListenError{msg: "failed to listen on unix socket " + n.opts.Socket, Err: err}
		}
		b.ln, b.name = ln, "memcached unix "+n.opts.Socket
		return b, nil
	}
	ln, err := net.Listen("tcp", n.addr(n.opts.Port))
	if err != nil {
		return b, &ListenError{msg: fmt.Sprintf("failed to listen on TCP port %d", n.opts.Port), Err: err}
	}
	b.ln, b.name = ln, "memcached "+ln.Addr().String()
	if path := n.opts.getenv(EnvPortFile); path != "" {
		if err := writePortFile(path, ln.Addr()); err != nil {
			_ = ln.Close()
			return b, err
		}
	}
	return b, nil
}

// bindProxy binds a proxy port, or the -s socket in its place as the
// original's cproxy_listen_port did.
func (n *Node) bindProxy(port int) (boundListener, error) {
	b := boundListener{serve: func(ln net.Listener) error { return n.proxy.Serve(port, ln) }}
	var ln net.Listener
	var err error
	if n.opts.Socket != "" {
		ln, err = listenUnix(n.opts.Socket, n.opts.SocketMode)
	} else {
		ln, err = net.Listen("tcp", n.addr(port))
	}
	if err != nil {
		return b, &ListenError{
			msg: fmt.Sprintf("could not listen on port %d. Please use -Z port_listen=PORT_NUM to specify a different port number.", port),
			Err: err,
		}
	}
	b.ln, b.name = ln, "proxy "+ln.Addr().String()
	if n.clientTLS != nil && !n.plainPorts[port] {
		b.ln, b.name = tls.NewListener(ln, n.clientTLS), "proxy (TLS) "+ln.Addr().String()
	}
	return b, nil
}

func (n *Node) addr(port int) string {
	return net.JoinHostPort(n.opts.Listen, strconv.Itoa(port))
}

// listenUnix binds a unix socket with the -a permissions. A stale socket
// left by a crashed process is removed first, as memcached does; any
// other kind of file is left alone and the bind fails.
func listenUnix(path string, mode fs.FileMode) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() == fs.ModeSocket {
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, mode.Perm()); err != nil {
		_ = ln.Close()
		return nil, err
	}
	return ln, nil
}

// writePortFile writes "TCP INET: <port>" to path.lck and renames it to
// path, so a reader never sees a partial file.
func writePortFile(path string, addr net.Addr) error {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return errors.New("port file: listener is not TCP")
	}
	tmp := path + ".lck"
	line := "TCP INET: " + strconv.Itoa(tcp.Port) + "\n"
	if err := os.WriteFile(tmp, []byte(line), 0o644); err != nil {
		return fmt.Errorf("port file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("port file: %w", err)
	}
	return nil
}
