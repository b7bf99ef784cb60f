package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// No image can be pulled where the e2e suite runs, so the machines the
// Ansible role is tried on are made here: a Debian root filesystem from
// debootstrap, with systemd as init and python3 for ansible, imported
// into docker. Making it takes minutes, so both the rootfs tarball (in
// the user's cache directory) and the imported image are kept, named by a
// hash of the recipe: a changed recipe makes a new one.

const (
	sysdSuite   = "bookworm"
	sysdMirror  = "http://deb.debian.org/debian"
	sysdInclude = "systemd,systemd-sysv,python3,ca-certificates,sudo" // sudo: the play's become
)

// sysdChanges are the image's settings (docker import --change): systemd
// is PID 1 and knows it runs in a container (docker import takes no
// STOPSIGNAL; the containers are removed with rm -f anyway).
var sysdChanges = []string{`CMD ["/sbin/init"]`, "ENV container=docker"}

// sysdMask are units that only fail or wait in a container; a privileged
// one's getty could even take the host's tty1.
var sysdMask = []string{"getty.target", "console-getty.service", "systemd-firstboot.service",
	"systemd-udevd.service", "systemd-modules-load.service", "sys-kernel-debug.mount", "sys-kernel-tracing.mount"}

func sysdRecipe() string {
	return strings.Join([]string{"debootstrap --variant=minbase --include=" + sysdInclude + " " + sysdSuite + " " + sysdMirror,
		"mask " + strings.Join(sysdMask, " "), "change " + strings.Join(sysdChanges, "|"), "v1"}, "\n")
}

// systemdImage returns the tag of the image, importing it from the cached
// tarball or debootstrapping it first when needed.
func systemdImage(t *testing.T) string {
	t.Helper()
	sum := sha256.Sum256([]byte(sysdRecipe()))
	key := hex.EncodeToString(sum[:])[:12]
	tag := "moxi-e2e-systemd:" + key
	if exec.Command("docker", "image", "inspect", tag).Run() == nil {
		return tag
	}
	cache, err := os.UserCacheDir() // $XDG_CACHE_HOME or ~/.cache
	if err != nil {
		t.Fatalf("no cache directory for the rootfs: %v", err)
	}
	cache = filepath.Join(cache, "moxi-e2e")
	tarball := filepath.Join(cache, sysdSuite+"-systemd-"+key+".tar")
	if _, err := os.Stat(tarball); err != nil {
		buildRootfsTar(t, cache, tarball)
	}
	args := []string{"import"}
	for _, c := range sysdChanges {
		args = append(args, "--change", c)
	}
	start := time.Now()
	if out, err := exec.Command("docker", append(args, tarball, tag)...).CombinedOutput(); err != nil {
		t.Fatalf("docker import %s: %v\n%s", tarball, err, out)
	}
	t.Logf("imported %s as %s in %v", tarball, tag, time.Since(start).Round(time.Millisecond))
	return tag
}

// buildRootfsTar debootstraps the rootfs and tars it to tarball, through a
// temporary name so that an interrupted run leaves no half tarball.
func buildRootfsTar(t *testing.T, cache, tarball string) {
	t.Helper()
	requireTool(t, "debootstrap")
	if os.Geteuid() != 0 {
		msg := "debootstrap needs root to make the systemd image (run once as root to fill " + cache + ")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	start := time.Now()
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %q: %v\n%s", name, args, err, tail(string(out), 3000))
		}
	}
	run("debootstrap", "--variant=minbase", "--include="+sysdInclude, sysdSuite, root, sysdMirror)
	t.Logf("debootstrap %s took %v", sysdSuite, time.Since(start).Round(time.Second))
	for _, u := range sysdMask {
		if err := os.Symlink("/dev/null", filepath.Join(root, "etc/systemd/system", u)); err != nil {
			t.Fatal(err)
		}
	}
	// The downloaded .debs are a third of the tree and never used again.
	debs, _ := filepath.Glob(filepath.Join(root, "var/cache/apt/archives/*.deb"))
	for _, d := range debs {
		os.Remove(d)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", tarball, os.Getpid()) // two runs at once write apart
	defer os.Remove(tmp)
	run("tar", "-C", root, "--numeric-owner", "-cf", tmp, ".")
	if err := os.Rename(tmp, tarball); err != nil {
		t.Fatal(err)
	}
	t.Logf("rootfs tarball %s made in %v", tarball, time.Since(start).Round(time.Second))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// requireDocker fails (CI=true) or skips when docker or its daemon is
// missing.
func requireDocker(t *testing.T) {
	t.Helper()
	requireTool(t, "docker")
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("the docker daemon does not answer (docker info: %v): %s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}
