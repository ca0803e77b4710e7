package report

import (
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// svgLine and svgRect are the waveform's shapes, as the SVG has them.
type svgLine struct {
	X1     float64 `xml:"x1,attr"`
	Y1     float64 `xml:"y1,attr"`
	X2     float64 `xml:"x2,attr"`
	Y2     float64 `xml:"y2,attr"`
	Stroke string  `xml:"stroke,attr"`
	Dash   string  `xml:"stroke-dasharray,attr"`
	Title  string  `xml:"title"`
}

type svgRect struct {
	X     float64 `xml:"x,attr"`
	Width float64 `xml:"width,attr"`
	Y     float64 `xml:"y,attr"`
	Fill  string  `xml:"fill,attr"`
	Title string  `xml:"title"`
}

type svg struct {
	Label string    `xml:"aria-label,attr"`
	Lines []svgLine `xml:"line"`
	Rects []svgRect `xml:"rect"`
}

func parseWave(t *testing.T, tl *timeline.Timeline) svg {
	t.Helper()
	s := string(Waveform(tl))
	var w svg
	if err := xml.Unmarshal([]byte(s), &w); err != nil {
		t.Fatalf("the waveform is not well-formed SVG: %v\n%s", err, s)
	}
	return w
}

// A handover with a gap, drawn: driven high (solid, at the top), a gap pulled low (dashed, at
// the bottom) for a one-tick moment still at least 2 px wide, driven high again; a band while
// each process held the line; the harness's marks as red ticks; and the same in words for
// screen readers.
func TestWaveformDrawsAHandover(t *testing.T) {
	ms := time.Millisecond
	tl := &timeline.Timeline{Line: "GPIO17", End: 100 * ms}
	tl.Add(
		timeline.Event{At: 0, Source: timeline.Observer, What: "observed before", Direction: vocab.Input, Drive: vocab.Pulled, Level: vocab.Low, Owner: vocab.Free},
		timeline.Event{At: 10 * ms, Source: timeline.GPIOTrace, What: "out", Direction: vocab.Output, Drive: vocab.Driven, Latch: vocab.High},
		timeline.Event{At: 10 * ms, Source: timeline.LineInfo, What: "requested", Owner: vocab.Used},
		timeline.Event{At: 50 * ms, Source: timeline.LineInfo, What: "released", Owner: vocab.Free},
		timeline.Event{At: 50 * ms, Source: timeline.Driver, What: "free", Direction: vocab.Input, Drive: vocab.Pulled, Level: vocab.Low},
		timeline.Event{At: 50*ms + 100*time.Microsecond, Source: timeline.GPIOTrace, What: "out", Direction: vocab.Output, Drive: vocab.Driven, Latch: vocab.High},
		timeline.Event{At: 50*ms + 100*time.Microsecond, Source: timeline.LineInfo, What: "requested", Owner: vocab.Used},
	)
	tl.Mark(5*ms, "first tool started")
	tl.Mark(60*ms, "observed during")
	w := parseWave(t, tl)

	var high, low []svgLine
	for _, l := range w.Lines {
		switch {
		case l.Y1 == yHigh && l.Y2 == yHigh:
			high = append(high, l)
		case l.Y1 == yLow && l.Y2 == yLow:
			low = append(low, l)
		}
	}
	if len(high) != 2 || high[0].Dash != "" || high[1].Dash != "" {
		t.Errorf("driven high: %+v; want two solid stretches at the top", high)
	}
	var gap *svgLine
	for i, l := range low {
		if strings.Contains(l.Title, "pulled low for 100 µs") {
			gap = &low[i]
		}
	}
	switch {
	case gap == nil:
		t.Errorf("no stretch 'pulled low for 100 µs' at the bottom: %+v", low)
	case gap.Dash == "":
		t.Errorf("the gap %+v is solid; want it dashed: a pull, not a driver", *gap)
	case gap.X2-gap.X1 < 2:
		t.Errorf("the gap is %.1f px wide; want at least 2 px, so a short one stays visible", gap.X2-gap.X1)
	}
	if len(high) == 2 && gap != nil && high[1].X1 < gap.X2-0.01 {
		t.Errorf("the second driven stretch starts at %.1f px, inside the gap ending at %.1f px", high[1].X1, gap.X2)
	}
	bands, marks := 0, 0
	for _, r := range w.Rects {
		if r.Title == "held by a process" {
			bands++
		}
	}
	for _, l := range w.Lines {
		if l.Stroke == "#a00" {
			marks++
			if !strings.Contains(l.Title, "first tool started") && !strings.Contains(l.Title, "observed during") {
				t.Errorf("a mark titled %q", l.Title)
			}
		}
	}
	if bands != 2 {
		t.Errorf("%d bands of a process holding the line; want 2", bands)
	}
	if marks != 2 {
		t.Errorf("%d marks; want 2", marks)
	}
	for _, want := range []string{"pulled low for 10 ms", "driven high for 40 ms", "pulled low for 100 µs", "driven high for 49.9 ms"} {
		if !strings.Contains(w.Label, want) {
			t.Errorf("the waveform's words %q lack %q", w.Label, want)
		}
	}
}

// A stretch no source saw the level of is a grey box, not a line at a guessed level.
func TestWaveformShowsTheUnknown(t *testing.T) {
	ms := time.Millisecond
	tl := &timeline.Timeline{Line: "GPIO17", End: 20 * ms}
	tl.Add(
		timeline.Event{At: 0, Source: timeline.Observer, What: "observed before", Direction: vocab.Input, Drive: vocab.Pulled, Level: vocab.Low},
		timeline.Event{At: 5 * ms, Source: timeline.LineInfo, What: "requested", Direction: vocab.Output, Drive: vocab.Driven, Owner: vocab.Used},
	)
	w := parseWave(t, tl)
	grey := 0
	for _, r := range w.Rects {
		if r.Fill == "#ddd" {
			grey++
			if !strings.Contains(r.Title, "output, level unknown for "+strconv.Itoa(15)+" ms") {
				t.Errorf("the grey box says %q", r.Title)
			}
		}
	}
	if grey != 1 {
		t.Errorf("%d grey boxes; want 1 for the requested output of unknown level (%+v)", grey, w)
	}
	for _, l := range w.Lines {
		if l.Y1 == yHigh && l.Y2 == yHigh {
			t.Errorf("a line drawn at the top (%+v) where the level is unknown", l)
		}
	}
}
