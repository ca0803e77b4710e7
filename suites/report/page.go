package report

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
)

// Legend says what the marks mean.
const Legend = "✅ met the expectation · ☑️ met, but this bench would see another outcome the same way (not evidence) · ❌ did not · ❔ no known expectation (recorded, not passed) · ⚠️ infrastructure error (not a verdict) · – not run"

// setup is said once instead of in every row: what every spec starts from.
const setup = "Every spec starts from an input pulled down; a tool that sets an output sets it high. A cell is what the line was once the tool's process was gone, for each bias the tool asked for (pull-up, disabled, as-is); biases that gave the same are one entry."

// columnEndings are the grid's columns, with their headings.
var columnEndings = []struct {
	e     vocab.Ending
	title string
}{{vocab.Exit, "exits by itself"}, {vocab.SIGINT, "SIGINT"}, {vocab.SIGTERM, "SIGTERM"}, {vocab.SIGKILL, "SIGKILL"}, {vocab.ParentDeath, "parent dies"}}

// anchor is a column's block's id in the page.
func anchor(col int) string { return fmt.Sprintf("platform-%d", col+1) }

// cantSee says what a column's bench cannot see, from its "sees" property.
func (c Column) cantSee() string {
	can, err := vocab.ParseCapabilities(c.Props["sees"])
	if err != nil || c.Props["sees"] == "" {
		return ""
	}
	var not []string
	for _, f := range []vocab.Field{vocab.FieldLevel, vocab.FieldDrive, vocab.FieldPull, vocab.FieldReleasedDirection} {
		if !can.Has(f) {
			not = append(not, string(f))
		}
	}
	// The emulated Pi's register witness gives an output the level its latch drives: what
	// nothing sees there is an input's level and drive.
	if c.Props["witness"] != "" && len(not) >= 2 && not[0] == string(vocab.FieldLevel) && not[1] == string(vocab.FieldDrive) {
		not = append([]string{"level and drive of inputs (an output's come from the register witness)"}, not[2:]...)
	}
	return strings.Join(not, ", ")
}

// notHere lists the tools a column did not run, with why, leaving out those no column ran
// (they are listed once, with the predictions).
func (m *Matrix) notHere(col int) []string {
	unmeasured := map[string]bool{}
	for _, t := range m.Unmeasured() {
		unmeasured[t] = true
	}
	var out []string
	ran := map[string]bool{}
	for _, r := range m.Grid(col) {
		ran[r.Tool] = true
	}
	for t, v := range m.Columns[col].Tools {
		if !ran[t] && !unmeasured[t] {
			out = append(out, t+" ("+v+")")
		}
	}
	sortStrings(out)
	return out
}

// CellText is a grid cell in Markdown: each bias group on a line of its own.
func (c GridCell) CellText() string {
	var lines []string
	for _, g := range c.Groups {
		l := mark[g.Verdict] + " " + g.State
		if g.Verdict == vocab.Skipped {
			l = "–"
		}
		if g.Want != "" {
			l += " (want " + g.Want + ")"
		}
		if len(c.Groups) > 1 {
			l = g.Label() + ": " + l
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "<br>")
}

// WriteAnswers writes the answers as a Markdown list, each with a link to its rows when link;
// without links (a terminal) the tools no platform measured take one line, naming them.
func (m *Matrix) WriteAnswers(w io.Writer, rules *expect.Rules, link bool) {
	for _, a := range m.Answers(rules) {
		if !a.Measured {
			continue
		}
		var wheres []string
		for i, name := range m.PlatformNames(a) {
			if link {
				wheres = append(wheres, fmt.Sprintf("[%s](#%s)", name, anchor(a.Columns()[i])))
			} else {
				wheres = append(wheres, "**"+name+"**")
			}
		}
		where := strings.Join(wheres, "; ")
		version := ""
		if a.Version != "" && a.Version != "installed" {
			version = " (" + a.Version + ")"
		}
		fmt.Fprintf(w, "- **%s**%s on %s: %s.\n", a.Tool, version, where, a.Text())
	}
	var predicted []Answer
	for _, a := range m.Answers(rules) {
		if !a.Measured {
			predicted = append(predicted, a)
		}
	}
	if len(predicted) > 0 && !link {
		// On a terminal, one line: the predictions and their sources are in the reports.
		var names []string
		for _, a := range predicted {
			names = append(names, a.Tool)
		}
		fmt.Fprintf(w, "\nNot measured here: %s (what their expectations predict is in the Markdown and HTML reports).\n", strings.Join(names, ", "))
		return
	}
	if len(predicted) > 0 {
		fmt.Fprintf(w, "\nNot measured here, *predicted*:\n\n")
		for _, a := range predicted {
			fmt.Fprintf(w, "- **%s** (%s).", a.Tool, m.whyNot(a.Tool))
			if len(a.Says) > 0 {
				fmt.Fprintf(w, " *Predicted* by %s: %s.", a.Source, a.Text())
			}
			fmt.Fprintln(w)
		}
	}
}

// Markdown writes the answers, then a grid per platform, then the other checks.
func (m *Matrix) Markdown(w io.Writer) error { return m.MarkdownWith(w, nil) }

// MarkdownWith is Markdown with the rules that predict what tools no platform ran do; nil
// leaves the predictions out.
func (m *Matrix) MarkdownWith(w io.Writer, rules *expect.Rules) error {
	fmt.Fprintf(w, "## The answer\n\nWhat a line is left as once the program that set it is gone, per tool and platform, from what was measured:\n\n")
	m.WriteAnswers(w, rules, true)
	fmt.Fprintf(w, "\n%s\n\nLegend: %s\n", setup, Legend)
	for col, c := range m.Columns {
		fmt.Fprintf(w, "\n## <a id=\"%s\"></a>%s\n\n%s", anchor(col), c.Title, c.Detail)
		if cs := c.cantSee(); cs != "" {
			fmt.Fprintf(w, ". **Cannot see: %s**, so those are not checked here", cs)
		}
		fmt.Fprintln(w, ".")
		if nh := m.notHere(col); len(nh) > 0 {
			fmt.Fprintf(w, "\nNot run on this platform: %s.\n", strings.Join(nh, ", "))
		}
		fmt.Fprintf(w, "\n| tool | action |")
		for _, ce := range columnEndings {
			fmt.Fprintf(w, " %s |", ce.title)
		}
		fmt.Fprintf(w, "\n|---|---|%s\n", strings.Repeat("---|", len(columnEndings)))
		for _, r := range m.Grid(col) {
			fmt.Fprintf(w, "| %s | %s |", r.Tool, r.Action)
			for _, ce := range columnEndings {
				fmt.Fprintf(w, " %s |", r.Cells[ce.e].CellText())
			}
			fmt.Fprintln(w)
		}
		if tls := m.Timelines(col); len(tls) > 0 {
			fmt.Fprintf(w, "\nOn the way (%s):\n\n| tool | question | answer | the line, stretch by stretch |\n|---|---|---|---|\n", timelineClock(tls))
			for _, t := range tls {
				ans := markOf(t.Verdict) + " " + t.Observed
				if t.Want != "" {
					ans += " (want " + t.Want + ")"
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.Tool, shapeWords[t.Shape], ans, waveText(t))
			}
		}
	}
	if len(m.Checks) > 0 {
		fmt.Fprintf(w, "\n## Other checks\n\n| check |")
		for _, c := range m.Columns {
			fmt.Fprintf(w, " %s |", c.Title)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(m.Columns)))
		for _, ch := range m.Checks {
			fmt.Fprintf(w, "| %s |", ch.Name)
			for i := range m.Columns {
				fmt.Fprintf(w, " %s |", ch.Status[i])
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// htmlView is what the page template reads.
type htmlView struct {
	M        *Matrix
	Answers  []Answer
	Legend   string
	Setup    string
	Endings  []string
	Platform []platformView
}

type platformView struct {
	Timelines []TimelineRow
	Specs     []SpecTimeline
	Clock     string
	Col       int
	Anchor    string
	Column    Column
	CantSee   string
	NotHere   string
	Rows      []GridRow
}

// HTMLWith writes the page with the rules that predict what tools no platform ran do.
func (m *Matrix) HTMLWith(w io.Writer, rules *expect.Rules) error {
	v := htmlView{M: m, Answers: m.Answers(rules), Legend: Legend, Setup: setup}
	for _, ce := range columnEndings {
		v.Endings = append(v.Endings, ce.title)
	}
	for col, c := range m.Columns {
		v.Platform = append(v.Platform, platformView{Col: col, Anchor: anchor(col), Column: c, CantSee: c.cantSee(),
			NotHere: strings.Join(m.notHere(col), ", "), Rows: m.Grid(col), Timelines: m.Timelines(col), Specs: m.SpecTimelines(col)})
		v.Platform[len(v.Platform)-1].Clock = timelineClock(v.Platform[len(v.Platform)-1].Timelines)
	}
	return page.Execute(w, v)
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"cells": func(r GridRow) []GridCell {
		var cs []GridCell
		for _, ce := range columnEndings {
			cs = append(cs, r.Cells[ce.e])
		}
		return cs
	},
	// Plain glyphs in the page: emoji fonts are missing in many headless browsers and terminals.
	"mark": func(v vocab.Verdict) string {
		return map[vocab.Verdict]string{vocab.Met: "✓", vocab.MetIndistinct: "≈", vocab.NotMet: "✗", vocab.VerdictUnknown: "?", vocab.Skipped: "–", vocab.Infrastructure: "!"}[v]
	},
	"class": func(v vocab.Verdict) string {
		return map[vocab.Verdict]string{vocab.Met: "met", vocab.MetIndistinct: "alike", vocab.NotMet: "notmet", vocab.VerdictUnknown: "unknown", vocab.Skipped: "skipped", vocab.Infrastructure: "error"}[v]
	},
	"skipped": func(v vocab.Verdict) bool { return v == vocab.Skipped },
	"status":  func(m *Matrix, ch Check, i int) string { return ch.Status[i] },
	"why":     func(m *Matrix, tool string) string { return m.whyNot(tool) },
	// brief is a reason's first clause: the rest (an install hint) is behind the details.
	"brief": func(s string) string { b, _, _ := strings.Cut(s, "; "); return b },
	"many":  func(c GridCell) bool { return len(c.Groups) > 1 },
	"wave":  Waveform,
	"shape": func(s string) string { return shapeWords[s] },
	"inc":   func(i int) int { return i + 1 },
	// where are the platforms an answer is about, each with its column.
	"where": func(m *Matrix, a Answer) []struct {
		Col  int
		Name string
	} {
		var out []struct {
			Col  int
			Name string
		}
		for i, name := range m.PlatformNames(a) {
			out = append(out, struct {
				Col  int
				Name string
			}{a.Columns()[i], name})
		}
		return out
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gpiohil: what a GPIO line is left as</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.2em 2em;color:#222;font-size:14px}
h1{font-size:20px;margin:0 0 .3em}h2{font-size:16px;margin:1.4em 0 .3em}
ul.answers{margin:.2em 0 .8em;padding-left:1.2em;font-size:12px}ul.answers li{margin:.1em 0;line-height:1.2}
.tool{font-weight:600}.pred{color:#555}.doubt{color:#8a5a00}.bad{color:#a00;font-weight:600}
table{border-collapse:collapse;margin:.4em 0 1em}
th,td{border:1px solid #ccc;padding:3px 6px;font-size:12.5px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
td.met{background:#d9f2d9}td.alike{background:#e9f2e0}td.notmet{background:#f8d0d0}td.unknown{background:#fff2c2}td.error{background:#f8e0c0}td.skipped,td.none{background:#f6f6f6;color:#999}
td.passed{background:#d9f2d9}svg.wave{display:block}td.failed{background:#f8d0d0}
.b{color:#666}.want{color:#900}
small{color:#555}p{margin:.3em 0}
</style></head><body>
<h1>What a GPIO line is left as once the program that set it is gone</h1>
<ul class="answers">{{range .Answers}}{{if .Measured}}<li><span class="tool">{{.Tool}}</span>{{if and .Version (ne .Version "installed")}} <small>({{.Version}})</small>{{end}} on {{range $i, $p := where $.M .}}{{if $i}}; {{end}}<a href="#{{printf "platform-%d" (inc $p.Col)}}">{{$p.Name}}</a>{{end}}: {{.Saying}}.{{if .ExpectedBy}} <small>{{.Judged}}.</small>{{end}}{{if .NotMet}} <span class="bad">({{.NotMet}} not met: see the rows)</span>{{end}}{{if .Alike}} <span class="doubt" title="{{.Alike}} cells look the same on this bench as another outcome would: they are not evidence of what the tool did">({{.Alike}} ≈, not evidence)</span>{{end}}</li>
{{end}}{{end}}</ul>
{{$m := .M}}{{$first := true}}{{range .Answers}}{{if not .Measured}}{{if $first}}<p>Not measured here, <i>predicted</i> (open one for its prediction):</p><ul class="answers pred">{{$first = false}}{{end}}<li><details><summary><span class="tool">{{.Tool}}</span> <small>({{brief (why $m .Tool)}})</small></summary><small>{{why $m .Tool}}.</small>{{if .Says}} Predicted by {{.Source}}: {{.Saying}}.{{end}}</details></li>
{{end}}{{end}}{{if not $first}}</ul>{{end}}
<p><small>{{.Setup}}</small></p>
<p><small>{{.Legend}}</small></p>
{{$endings := .Endings}}{{range .Platform}}<h2 id="{{.Anchor}}">{{.Column.Title}}</h2>
<p><small>{{.Column.Detail}}{{if .CantSee}}. <b>Cannot see: {{.CantSee}}</b>, so those are not checked here{{end}}.{{if .NotHere}} Not run on this platform: {{.NotHere}}.{{end}}</small></p>
<table><tr><th>tool</th><th>action</th>{{range $endings}}<th>{{.}}</th>{{end}}</tr>
{{range $r := .Rows}}<tr><td>{{$r.Tool}}</td><td>{{$r.Action}}</td>{{range $c := cells $r}}{{if $c.Groups}}<td class="{{class $c.Verdict}}">{{range $i, $g := $c.Groups}}{{if $i}}<br>{{end}}{{if many $c}}<span class="b">{{$g.Label}}:</span> {{end}}{{if skipped $g.Verdict}}–{{else}}{{mark $g.Verdict}} {{$g.State}}{{if $g.Want}} <span class="want">(want {{$g.Want}})</span>{{end}}{{end}}{{end}}</td>{{else}}<td class="none"></td>{{end}}{{end}}</tr>
{{end}}</table>
{{if .Timelines}}<p><small>On the way ({{.Clock}}). The level over time: <b>solid</b> driven, <span style="color:#2a6fb0">dashed</span> set by a pull, grey not seen; the band below while a process held the line; red ticks the harness's own moments (hover for each).</small></p>
<table><tr><th>tool</th><th>question</th><th>answer</th><th>the line</th></tr>
{{range .Timelines}}<tr><td>{{.Tool}}</td><td>{{shape .Shape}}</td><td class="{{class .Verdict}}">{{mark .Verdict}} {{.Observed}}{{if .Want}} <span class="want">(want {{.Want}})</span>{{end}}</td><td>{{wave .Timeline}}</td></tr>
{{end}}</table>{{end}}
{{if .Specs}}<details><summary><small>What the line did in each of the {{len .Specs}} specs above, from the tool's start to the observation (waveforms)</small></summary>
<table><tr><th>tool</th><th>spec</th><th>verdict</th><th>the line</th></tr>
{{range .Specs}}<tr><td>{{.Tool}}</td><td>{{.Suite}}: {{.Scenario}}</td><td class="{{class .Verdict}}">{{mark .Verdict}}</td><td>{{wave .Timeline}}</td></tr>
{{end}}</table></details>{{end}}
{{end}}
{{if .M.Checks}}<h2>Other checks</h2><table><tr><th>check</th>{{range .M.Columns}}<th>{{.Title}}</th>{{end}}</tr>
{{range $ch := .M.Checks}}<tr><td>{{$ch.Name}}</td>{{range $i, $c := $m.Columns}}{{$s := status $m $ch $i}}<td class="{{$s}}">{{$s}}</td>{{end}}</tr>
{{end}}</table>{{end}}
</body></html>
`))

func sortStrings(s []string) { slices.Sort(s) }

// timelineClock says what the durations of a platform's timelines are.
func timelineClock(ts []TimelineRow) string {
	emulated, step := false, time.Duration(0)
	for _, t := range ts {
		if t.Timeline != nil {
			emulated = emulated || t.Timeline.Emulated
			step = max(step, t.Timeline.Step)
		}
	}
	s := "durations from the kernel's CLOCK_MONOTONIC"
	if emulated {
		s = "durations are the emulated machine's: they give the order and rough size of what happens, not real time"
	}
	if step > 0 {
		s += fmt.Sprintf("; in some specs the kernel's clock fell back to jiffies and counted in %s steps", timeline.Duration(step, false))
	}
	return s
}

// markOf is a verdict's mark in Markdown.
func markOf(v vocab.Verdict) string {
	return map[vocab.Verdict]string{vocab.Met: "✅", vocab.MetIndistinct: "☑️", vocab.NotMet: "❌", vocab.VerdictUnknown: "❔", vocab.Skipped: "–", vocab.Infrastructure: "⚠️"}[v]
}

// waveText is a timeline's stretches in words, for Markdown.
func waveText(t TimelineRow) string {
	if t.Timeline == nil {
		return ""
	}
	return waveLabel(t.Timeline)
}
