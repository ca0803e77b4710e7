package report

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// TimelineRow is one timeline spec of a platform: a tool's pulse or handover.
type TimelineRow struct {
	Tool     string
	Shape    string // pulse, handover
	Verdict  vocab.Verdict
	Observed string // the answer in words
	Want     string // what was expected, when it was not met
	Timeline *timeline.Timeline
}

// Timelines are column col's timeline specs, by tool and shape.
func (m *Matrix) Timelines(col int) []TimelineRow {
	var out []TimelineRow
	for _, r := range m.Rows {
		c, ok := m.Cells[r][col]
		if !ok || r.Suite != vocab.TimelineSuite || c.Verdict == vocab.Skipped {
			continue
		}
		tr := TimelineRow{Tool: r.Tool, Shape: c.Result.Shape, Verdict: c.Verdict, Observed: c.Observed, Timeline: c.Result.Timeline}
		if tr.Observed == "" {
			tr.Observed = c.Note
		}
		if c.Verdict == vocab.NotMet {
			tr.Want = c.Expected
		}
		out = append(out, tr)
	}
	slices.SortStableFunc(out, func(a, b TimelineRow) int {
		if a.Tool != b.Tool {
			return strings.Compare(a.Tool, b.Tool)
		}
		return shapeOrder[a.Shape] - shapeOrder[b.Shape]
	})
	return out
}

// SpecTimeline is one end-state spec's timeline: what the line did on its way to the state the
// grid shows.
type SpecTimeline struct {
	Suite    vocab.Suite
	Tool     string
	Scenario string
	Verdict  vocab.Verdict
	Timeline *timeline.Timeline
}

// SpecTimelines are column col's persistence and cleanup specs that carry a timeline.
func (m *Matrix) SpecTimelines(col int) []SpecTimeline {
	var out []SpecTimeline
	for _, r := range m.Rows {
		c, ok := m.Cells[r][col]
		if !ok || c.Result.Timeline == nil || (r.Suite != vocab.Persistence && r.Suite != vocab.CleanupSuite) {
			continue
		}
		out = append(out, SpecTimeline{Suite: r.Suite, Tool: r.Tool, Scenario: r.Scenario, Verdict: c.Verdict, Timeline: c.Result.Timeline})
	}
	return out
}

// shapeOrder is the order of a tool's timeline rows.
var shapeOrder = map[string]int{"pulse": 0, "start-up": 1, "handover": 2}

// shapeWords name a timeline spec for people.
var shapeWords = map[string]string{
	"pulse":    "set and exit: how long was it driven?",
	"handover": "restart (SIGTERM, then the same tool): steady?",
	"start-up": "set: any other level first?",
}

// The waveform's size, in pixels.
const (
	waveW, waveH = 260, 30
	yHigh, yLow  = 5, 21
)

// Waveform draws a timeline as a small SVG: the level over time, solid where driven, dashed
// where a pull sets it, a grey band where nothing saw it; a band under it while a process held
// the line; ticks at the harness's marks (hover for what each is). Time runs left to right,
// in proportion from the first event to the end, but every stretch is at least 2 px wide so
// that a short pulse stays visible (the others give up the room); the tooltips give each
// stretch's length.
func Waveform(t *timeline.Timeline) template.HTML {
	if t == nil || len(t.Events) == 0 {
		return ""
	}
	spans := t.Spans()
	if len(spans) == 0 {
		return ""
	}
	t0 := spans[0].From
	lay := layout(spans, t0, t.End)
	x := lay.x
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="wave" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		waveW, waveH, waveW, waveH, template.HTMLEscapeString(waveLabel(t)))
	prevY := -1.0
	for i, s := range spans {
		if instant(spans, i) {
			continue
		}
		x0, x1 := lay.x0[i], lay.x1[i]
		tip := template.HTMLEscapeString(fmt.Sprintf("+%s: %s for %s", timeline.Duration(s.From-t0, false), s.State.Word(), t.Clocked().Len(s.Len())))
		if s.State.Owner == vocab.Used {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="3" fill="#9bb7d4"><title>held by a process</title></rect>`, x0, waveH-4, x1-x0)
		}
		y, style := 0.0, ""
		switch {
		case s.State.Drive == vocab.Floating:
			y, style = (yHigh+yLow)/2, `stroke="#999" stroke-dasharray="2 2"`
		case !s.State.Known():
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#ddd"><title>%s</title></rect>`, x0, yHigh, x1-x0, yLow-yHigh, tip)
			prevY = -1
			continue
		case s.State.Level == vocab.High:
			y = yHigh
		default:
			y = yLow
		}
		if style == "" {
			style = `stroke="#222" stroke-width="2"`
			if s.State.Drive == vocab.Pulled {
				style = `stroke="#2a6fb0" stroke-width="1.5" stroke-dasharray="3 2"`
			}
		}
		if prevY >= 0 && prevY != y {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#222"/>`, x0, prevY, x0, y)
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" %s><title>%s</title></line>`, x0, y, x1, y, style, tip)
		prevY = y
	}
	for _, mk := range t.Marks {
		if mk.At < t0 {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="0" x2="%.1f" y2="3" stroke="#a00"><title>%s</title></line>`, x(mk.At), x(mk.At),
			template.HTMLEscapeString(fmt.Sprintf("+%s: %s", timeline.Duration(mk.At-t0, false), mk.What)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// waveLayout places a waveform's spans left to right: widths in proportion to their lengths,
// but each drawn one at least minSpan px, the rest shrunk to make room.
type waveLayout struct {
	spans  []timeline.Span
	x0, x1 []float64 // span i's left and right edge; equal for one that is not drawn
}

const minSpan = 2.0

func layout(spans []timeline.Span, t0, end time.Duration) waveLayout {
	l := waveLayout{spans: spans, x0: make([]float64, len(spans)), x1: make([]float64, len(spans))}
	avail := float64(waveW - 4)
	total := float64(end - t0)
	if total <= 0 {
		total = float64(time.Millisecond)
	}
	w := make([]float64, len(spans))
	for i, s := range spans {
		if !instant(spans, i) {
			w[i] = max(minSpan, avail*float64(s.Len())/total)
		}
	}
	// Shrink the wide spans until everything fits (twice is enough: a span shrunk below the
	// minimum is set to it, which leaves less to shrink the next time).
	for range 3 {
		sum, wide := 0.0, 0.0
		for _, v := range w {
			sum += v
			if v > minSpan {
				wide += v
			}
		}
		if sum <= avail+1e-9 || wide == 0 {
			break
		}
		f := (wide - (sum - avail)) / wide
		for i, v := range w {
			if v > minSpan {
				w[i] = max(minSpan, v*f)
			}
		}
	}
	x := 2.0
	for i := range spans {
		l.x0[i], l.x1[i] = x, x+w[i]
		x += w[i]
	}
	return l
}

// x is where time d falls: within the span that holds it, in proportion.
func (l waveLayout) x(d time.Duration) float64 {
	for i, s := range l.spans {
		if d < s.To || i == len(l.spans)-1 {
			if s.Len() <= 0 || d <= s.From {
				return l.x0[i]
			}
			return l.x0[i] + (l.x1[i]-l.x0[i])*min(1, float64(d-s.From)/float64(s.Len()))
		}
	}
	return 2
}

// instant says whether span i is a step of one instant that is not drawn: every one that is
// not driven, and a driven one that looks like the span before or after it (only who holds the
// line changed, as at a request or release whose events share a timestamp). A pulse of one
// clock tick is drawn.
func instant(spans []timeline.Span, i int) bool {
	s := spans[i]
	if s.Len() > 0 {
		return false
	}
	if s.State.Drive != vocab.Driven {
		return true
	}
	w := s.State.Word()
	return (i > 0 && spans[i-1].State.Word() == w) || (i+1 < len(spans) && spans[i+1].State.Word() == w)
}

// waveLabel is the waveform in words, for screen readers and text reports: each stretch and its
// length.
func waveLabel(t *timeline.Timeline) string {
	type stretch struct {
		word string
		d    time.Duration
	}
	var ss []stretch
	spans := t.Spans()
	for i, s := range spans {
		if instant(spans, i) {
			continue
		}
		if n := len(ss); n > 0 && ss[n-1].word == s.State.Word() { // who holds it changed, not the level
			ss[n-1].d += s.Len()
			continue
		}
		ss = append(ss, stretch{s.State.Word(), s.Len()})
	}
	var ws []string
	for _, s := range ss {
		ws = append(ws, fmt.Sprintf("%s for %s", s.word, t.Clocked().Len(s.d)))
	}
	return strings.Join(ws, ", then ")
}

// Restart is what a tool's handover says in the answer, without its durations (so platforms
// that behave alike share an answer): "steady", "a gap, pulled low", "not known (...)".
func (m *Matrix) Restart(col int, tool string) (string, bool) {
	for _, r := range m.Timelines(col) {
		if r.Tool != tool || r.Shape != "handover" {
			continue
		}
		kind, rest, _ := strings.Cut(r.Observed, ": ")
		var w string
		switch kind {
		case string(timeline.KindSteady):
			w = "steady"
		case string(timeline.KindGap):
			state, _, _ := strings.Cut(rest, " for ")
			w = "a gap, " + state
		default:
			w = "not known (" + r.Observed + ")"
		}
		if r.Verdict == vocab.NotMet {
			w += ", where " + r.Want + " was expected"
		}
		return w, true
	}
	return "", false
}
