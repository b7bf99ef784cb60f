package e2e

// Headless Chromium (Debian's chromium) for the status page tests: the
// page's DOM once its script has run, and a screenshot.

import (
	"bytes"
	"context"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// chromiumTimeout bounds one run of chromium, startup included (about a
// second, 7 s with pageBudget).
const chromiumTimeout = 60 * time.Second

// pageBudget is the virtual time the page runs before chromium dumps or
// shoots it: a few of its 1 s polls. Virtual time stands still while a
// fetch is pending, so every poll started has been rendered. (Chromium
// 156 now and then never ends a budget during which a fetch took about a
// second; the page has none such: /fleet answers from a cache.)
const pageBudget = "5000"

// runChromium runs headless chromium on url with extra flags and
// returns its stdout; a profile of its own keeps parallel runs apart.
func runChromium(t *testing.T, url string, extra ...string) []byte {
	t.Helper()
	bin := requireTool(t, "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	args := append([]string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=" + pageBudget}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// renderedDOM is url's DOM after the page's script ran.
func renderedDOM(t *testing.T, url string) string {
	t.Helper()
	dom := runChromium(t, url, "--dump-dom")
	if !bytes.Contains(dom, []byte("</html>")) {
		t.Fatalf("chromium --dump-dom %s: not a document:\n%s", url, dom)
	}
	return string(dom)
}

// screenshot saves url as a 1400x1000 PNG named name, under
// $MOXI_E2E_ARTIFACTS when set (to keep it), else in the test's
// temporary directory, checks it is a PNG of that size with something
// drawn, and returns its path.
func screenshot(t *testing.T, url, name string) string {
	t.Helper()
	dir := os.Getenv("MOXI_E2E_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	runChromium(t, url, "--screenshot="+path, "--window-size=1400,1000", "--hide-scrollbars")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 1000 {
		t.Errorf("screenshot %s is %dx%d, want 1400x1000", path, b.Dx(), b.Dy())
	}
	if n := colors(img, 64); n < 64 {
		t.Errorf("screenshot %s has %d colors: a blank page?", path, n)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// colors counts img's distinct colors, up to limit.
func colors(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// domElem is one element of a rendered page: its attributes and the
// text up to its first child element.
type domElem struct {
	attrs map[string]string
	text  string
}

// domElems returns the elements of dom (chromium's serialization: every
// attribute value in double quotes) that have the attribute attr.
func domElems(dom, attr string) []domElem {
	tagRE := regexp.MustCompile(`<[a-z]+\b([^>]*)>([^<]*)`)
	attrRE := regexp.MustCompile(`([\w-]+)="([^"]*)"`)
	var out []domElem
	for _, m := range tagRE.FindAllStringSubmatch(dom, -1) {
		e := domElem{attrs: map[string]string{}, text: html.UnescapeString(m[2])}
		for _, a := range attrRE.FindAllStringSubmatch(m[1], -1) {
			e.attrs[a[1]] = html.UnescapeString(a[2])
		}
		if _, ok := e.attrs[attr]; ok {
			out = append(out, e)
		}
	}
	return out
}
