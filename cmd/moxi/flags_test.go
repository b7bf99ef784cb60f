package main

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/node"
)

func noEnv(string) string { return "" }

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(o node.Options) bool
	}{
		{"defaults with -z", []string{"-z", "11211=a"}, func(o node.Options) bool {
			d := node.DefaultOptions()
			return o.ClusterConfig == "11211=a" && o.Port == node.PortUnspecified && o.Threads == d.Threads &&
				o.MaxBytes == 64<<20 && o.Protocol == "auto" && o.Verbosity == 0 && o.Version == version
		}},
		{"-p separate", []string{"-p", "11311"}, func(o node.Options) bool { return o.Port == 11311 }},
		{"-p attached", []string{"-p11311"}, func(o node.Options) bool { return o.Port == 11311 }},
		{"-p 0", []string{"-p", "0", "-U", "0"}, func(o node.Options) bool { return o.Port == 0 && o.UDPPort == 0 }},
		{"-vvv", []string{"-vvv", "-p1"}, func(o node.Options) bool { return o.Verbosity == 3 }},
		{"-v -v", []string{"-v", "-v", "-p1"}, func(o node.Options) bool { return o.Verbosity == 2 }},
		{"clustered switches then value", []string{"-vdMp", "11311"}, func(o node.Options) bool {
			return o.Verbosity == 1 && o.Daemonize && o.NoEvict && o.Port == 11311
		}},
		{"all value flags", []string{
			"-z", "11211=a", "-Z", "downstream_max=8", "-U", "11212", "-s", "/tmp/s", "-a", "0770",
			"-l", "127.0.0.1", "-B", "binary", "-b", "128", "-t", "8", "-c", "4096", "-R", "50",
			"-m", "128", "-I", "2m", "-f", "1.5", "-n", "64", "-D", "#", "-Y", "y", "-O", "/tmp/log",
			"-P", "/tmp/pid", "-u", "nobody",
		}, func(o node.Options) bool {
			return o.ClusterConfig == "11211=a" && o.Behavior == "downstream_max=8" && o.UDPPort == 11212 &&
				o.Socket == "/tmp/s" && o.SocketMode == fs.FileMode(0o770) && o.Listen == "127.0.0.1" &&
				o.Protocol == "binary" && o.Backlog == 128 && o.Threads == 8 && o.MaxConns == 4096 &&
				o.ReqsPerEvent == 50 && o.MaxBytes == 128<<20 && o.MaxItemSize == 2<<20 &&
				o.GrowthFactor == 1.5 && o.ChunkSize == 64 && o.PrefixDelimiter == '#' && o.DetailEnabled &&
				o.StdinCheck && o.LogFile == "/tmp/log" && o.PIDFile == "/tmp/pid" && o.User == "nobody"
		}},
		{"all switches", []string{"-p1", "-M", "-k", "-r", "-d", "-L", "-C", "-X"}, func(o node.Options) bool {
			return o.NoEvict && o.LockMemory && o.CoreLimit && o.Daemonize && o.LargePages && o.NoCAS && o.Mcmux
		}},
		{"-I bytes", []string{"-p1", "-I", "2048"}, func(o node.Options) bool { return o.MaxItemSize == 2048 }},
		{"-I k", []string{"-p1", "-I1024k"}, func(o node.Options) bool { return o.MaxItemSize == 1<<20 }},
		{"-I M", []string{"-p1", "-I", "1M"}, func(o node.Options) bool { return o.MaxItemSize == 1<<20 }},
		{"-Y n", []string{"-p1", "-Y", "n"}, func(o node.Options) bool { return !o.StdinCheck }},
		{"-z value may start with -", []string{"-Z", "-x", "-p1"}, func(o node.Options) bool { return o.Behavior == "-x" }},
		{"trailing http URL", []string{"-Z", "port_listen=11311", "http://h:8091/pools/default/bucketsStreaming/default"},
			func(o node.Options) bool {
				return o.ClusterConfig == "http://h:8091/pools/default/bucketsStreaming/default"
			}},
		{"trailing apikey", []string{"-v", "apikey=a%b"}, func(o node.Options) bool { return o.ClusterConfig == "apikey=a%b" }},
		{"trailing with @", []string{"u%p@host"}, func(o node.Options) bool { return o.ClusterConfig == "u%p@host" }},
		{"trailing after --", []string{"-p1", "--", "http://h/p"}, func(o node.Options) bool { return o.ClusterConfig == "http://h/p" }},
		{"-s alone is a config", []string{"-s", "/tmp/m.sock"}, func(o node.Options) bool { return o.Socket == "/tmp/m.sock" }},
		{"-U alone passes parsing", []string{"-U", "11211"}, func(o node.Options) bool { return o.UDPPort == 11211 }},
		{"getenv passed on", []string{"-p1"}, func(o node.Options) bool { return o.Getenv != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseArgs(tt.args, noEnv)
			if err != nil {
				t.Fatalf("parseArgs(%q): %v", tt.args, err)
			}
			if !tt.check(o) {
				t.Errorf("parseArgs(%q) = %+v", tt.args, o)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-q"}, "unknown flag -q"},
		{[]string{"-vq"}, "unknown flag -q"},
		{[]string{"--port=1"}, "unknown flag --port=1"},
		{[]string{"-p"}, "flag -p needs a value"},
		{[]string{"-z", "11211=a", "-Z"}, "flag -Z needs a value"},
		{[]string{"-p", "x"}, `-p needs a port number (0-65535), got "x"`},
		{[]string{"-p", "70000"}, "-p needs a port number"},
		{[]string{"-p", "-1"}, "-p needs a port number"},
		{[]string{"-p1", "-t", "0"}, "-t must be >= 1"},
		{[]string{"-p1", "-t", "four"}, `-t needs a number, got "four"`},
		{[]string{"-p1", "-B", "http"}, `-B must be ascii, binary or auto, not "http"`},
		{[]string{"-p1", "-a", "999"}, "-a needs an octal permission mask"},
		{[]string{"-p1", "-Y", "maybe"}, `-Y must be y or n, got "maybe"`},
		{[]string{"-p1", "-I", "1g"}, "-I needs a size"},
		{[]string{"-p1", "-I", "512"}, "-I must be at least 1024 bytes"},
		{[]string{"-p1", "-I", "129m"}, "-I must be at most 128m"},
		{[]string{"-p1", "-m", "0"}, "-m must be >= 1"},
		{[]string{"-p1", "-f", "1"}, "-f must be greater than 1"},
		{[]string{"-p1", "-f", "x"}, `-f needs a number, got "x"`},
		{[]string{"-p1", "-c", "0"}, "-c must be >= 1"},
		{[]string{"-p1", "-R", "0"}, "-R must be >= 1"},
		{[]string{"-p1", "-D", ""}, "-D needs a delimiter character"},
		{[]string{"-p1", "stray"}, `unexpected argument "stray"`},
		{[]string{"-p1", "url=http://h/p"}, `unexpected argument "url=http://h/p"`},
		{[]string{"-z", "11211=a", "http://h/p"}, `unexpected argument "http://h/p"`},
		{[]string{"http://h/p", "-v"}, `unexpected argument "http://h/p"`},
	}
	for _, tt := range tests {
		_, err := parseArgs(tt.args, noEnv)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("parseArgs(%q) error = %v, want prefix %q", tt.args, err, tt.want)
		}
	}
}

func TestParseArgsRequests(t *testing.T) {
	tests := []struct {
		args []string
		want error
	}{
		{[]string{"-h"}, errHelp},
		{[]string{"--help"}, errHelp},
		{[]string{"-vh"}, errHelp},
		{[]string{"-h", "-q"}, errHelp}, // like getopt+usage(): flags after -h are not looked at
		{[]string{"-V"}, errVersion},
		{[]string{"--version"}, errVersion},
		{[]string{"-i"}, errLicense},
		{nil, errNeedConfig},
		{[]string{"-v", "-Z", "downstream_max=1"}, errNeedConfig},
	}
	for _, tt := range tests {
		if _, err := parseArgs(tt.args, noEnv); !errors.Is(err, tt.want) {
			t.Errorf("parseArgs(%q) error = %v, want %v", tt.args, err, tt.want)
		}
	}
}

func TestItemSizeArg(t *testing.T) {
	for in, want := range map[string]int{"1m": 1 << 20, "2M": 2 << 20, "1024k": 1 << 20, "64K": 64 << 10, "4096": 4096} {
		if got, err := itemSizeArg(in); err != nil || got != want {
			t.Errorf("itemSizeArg(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "m", "-1m", "1.5m", "99999999m"} {
		if _, err := itemSizeArg(in); err == nil {
			t.Errorf("itemSizeArg(%q): want error", in)
		}
	}
}
