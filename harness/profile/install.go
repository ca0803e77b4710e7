package profile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"
	"sync"
	"text/template"
	"time"
)

// probeTimeout bounds check-command and version-command together. Both are a Python
// import or a --version at most: well under a second on a host, a few seconds
// under QEMU's software emulation; but an emulated Pi sharing two cores with another
// emulated Pi and the first specs' interpreters took over 20 s to answer (a bound on a
// hang, not an expected time).
var probeTimeout = 60 * time.Second // a variable only for tests

// ErrNoAnswer is matched by the error of a check or version command that did not answer
// within its bound: whether the tool is installed is then unknown, which is an
// infrastructure problem (a machine too busy, a command that hangs), not an absence.
var ErrNoAnswer = errors.New("no answer")

// Installed says whether the tool can run here. If not, reason says why and
// what to install, ready to be a spec's skip message, e.g.
//
//	gpioset not found on PATH; install Debian package gpiod
//
// The checks run in order: every program in requires is found, check-command
// exits 0, and the version line matches version-match. A check or version command that
// does not answer within its bound is neither: err matches ErrNoAnswer.
func (p *Profile) Installed() (ok bool, reason string, err error) {
	why := func(format string, args ...any) (bool, string, error) {
		r := fmt.Sprintf(format, args...)
		if p.InstallHint != "" {
			r += "; " + p.InstallHint
		}
		return false, r, nil
	}
	requires, err := render(p.host.requires, templateData{Self: Self()})
	if err != nil {
		return why("profile %s: requires: %v", p.Name, err)
	}
	for _, r := range requires {
		if !strings.Contains(r, "/") {
			if _, err := exec.LookPath(r); err != nil {
				return why("%s not found on PATH", r)
			}
			continue
		}
		fi, err := os.Stat(r)
		switch {
		case err != nil:
			return why("%s does not exist", r)
		case fi.IsDir() || fi.Mode()&0o111 == 0:
			return why("%s is not an executable file", r)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	if p.host.check != nil {
		argv, out, err := p.probe(ctx, p.host.check)
		if errors.Is(err, ErrNoAnswer) {
			return false, "", fmt.Errorf("profile %s: check-command %s: %w", p.Name, quoteArgv(argv), err)
		}
		if err != nil && len(bytes.TrimSpace(out)) > 0 {
			return why("check-command failed (%v)%s", err, lastLine(out))
		} else if err != nil {
			return why("check-command %s failed (%v)", quoteArgv(argv), err)
		}
	}
	if p.versionRE != nil {
		v, err := p.Version(ctx)
		if errors.Is(err, ErrNoAnswer) {
			return false, "", fmt.Errorf("profile %s: %w", p.Name, err)
		}
		if err != nil {
			return why("%v", err)
		}
		if !p.versionRE.MatchString(v) {
			return why("%s reports version %q, want one matching /%s/", path.Base(p.VersionCommand[0]), v, p.VersionMatch)
		}
	}
	return true, "", nil
}

// Version runs version-command and returns the first non-empty line of its
// output, trimmed. It returns "" and no error if the profile has no
// version-command.
func (p *Profile) Version(ctx context.Context) (string, error) {
	if p.host.version == nil {
		return "", nil
	}
	if v, ok := versions.Load(p); ok {
		return v.(string), nil
	}
	argv, out, err := p.probe(ctx, p.host.version)
	if err != nil {
		return "", fmt.Errorf("version command %s failed (%w)%s", quoteArgv(argv), err, lastLine(out))
	}
	for line := range strings.Lines(string(out)) {
		if line = strings.TrimSpace(line); line != "" {
			versions.Store(p, line)
			return line, nil
		}
	}
	return "", fmt.Errorf("version command %s printed nothing", quoteArgv(argv))
}

// versions remembers each profile's version once its command has answered: a tool does not
// change while gpiohil runs, and the command may take a second (a Python interpreter started
// for the first time under emulation).
var versions sync.Map // *Profile -> string

// probe renders and runs a host command, returning its combined output.
func (p *Profile) probe(ctx context.Context, ts []*template.Template) ([]string, []byte, error) {
	argv, err := render(ts, templateData{Self: Self()})
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w within %v", ErrNoAnswer, probeTimeout)
	} else if errors.Is(err, exec.ErrNotFound) {
		err = fmt.Errorf("%s not found", argv[0])
	}
	return argv, out, err
}

// lastLine returns ": " and the last non-empty line of out, where tracebacks
// and error messages put the useful part, or "" if out is blank.
func lastLine(out []byte) string {
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return ""
	}
	return ": " + string(bytes.TrimSpace(out[bytes.LastIndexByte(out, '\n')+1:]))
}

// quoteArgv formats argv for messages, quoting elements that need it.
func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$;&|<>(){}*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
