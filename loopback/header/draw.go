package header

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// shortReason is the tag the drawings put beside a reserved pin.
var shortReason = map[string]string{
	ReasonIDEEPROM: "ID EEPROM",
	ReasonPullUp:   "fixed pull-up",
	ReasonConsole:  "console",
	ReasonSPI:      "SPI0",
}

// cell is what the text drawing shows for pin n: the jumper's name on the line under test,
// the name in lower case (or with a prime) on the partner, "-" on a reserved pin left alone.
func (p Plan) cell(n int) string {
	j, test, ok := p.at(n)
	switch {
	case ok && test:
		return j.Name
	case ok:
		if l := strings.ToLower(j.Name); l != j.Name {
			return l
		}
		return j.Name + "'"
	case Pins[n-1].Reserved != "":
		return "-"
	}
	return ""
}

func (p Plan) note(n int) string {
	pin := Pins[n-1]
	if _, _, ok := p.at(n); ok || pin.Reserved == "" {
		return ""
	}
	return "(" + shortReason[pin.Reserved] + ")"
}

// WriteText draws the plan on the header as text, one header row per line, then one line per
// jumper saying where it goes and how to make it.
func WriteText(w io.Writer, p Plan) error {
	if err := p.Check(); err != nil {
		return err
	}
	width := 1
	for n := 1; n <= 40; n++ {
		width = max(width, len(p.cell(n)))
	}
	var b strings.Builder
	title := "Raspberry Pi 40-pin header (Pi 1 B+ to Pi 5)"
	if p.Title != "" {
		title += ": " + p.Title
	}
	fmt.Fprintf(&b, "%s\npin 1 is the square pad; odd pins are on the row nearer the middle of the board\n\n", title)
	for r := range 20 {
		l, rt := 2*r+1, 2*r+2
		line := fmt.Sprintf("%17s %6s %2d [%-*s] [%-*s] %-2d %-6s %s",
			p.note(l), Pins[l-1].Name(), l, width, p.cell(l), width, p.cell(rt), rt, Pins[rt-1].Name(), p.note(rt))
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	b.WriteString("\n")
	if len(p.Jumpers) == 0 {
		b.WriteString("no jumpers\n")
	}
	for _, j := range p.Jumpers {
		fmt.Fprintf(&b, "%-3s %-16s under test, partner %-16s %s\n", j.Name, j.Line, j.Partner, j.Fit())
	}
	b.WriteString("capital letter: the line under test; small letter: its partner; " +
		"-: left alone (ID EEPROM GPIO0-1, fixed pull-ups GPIO2-3, console GPIO14-15, SPI0 GPIO7-11)\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Colours of the SVG drawing.
var (
	jumperColours = []string{"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#e377c2", "#8c564b"}
	kindColours   = map[Kind]string{Power3V3: "#f2a900", Power5V: "#c0392b", Ground: "#222222", GPIO: "#7fa88a"}
)

const reservedColour = "#c8c8c8"

// SVG layout, in pixels.
const (
	svgWidth  = 760
	rowHeight = 30
	topMargin = 78
	oddX      = 350 // centre of the odd-pin column
	evenX     = 410 // centre of the even-pin column
	pinRadius = 11
	labelGap  = 52 // from a pin's centre to its label
	bowOut    = 30 // how far a wire along one column bows out beside it
)

// WriteSVG draws the plan as an SVG picture: the header with its pin numbers and names, each
// jumper as a coloured link between its two pins with its letter, and a legend.
func WriteSVG(w io.Writer, p Plan) error {
	if err := p.Check(); err != nil {
		return err
	}
	legendTop := topMargin + 20*rowHeight + 20
	height := legendTop + (len(p.Jumpers)+3)*22 + 10
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := "Raspberry Pi 40-pin header (Pi 1 B+ to Pi 5)"
	if p.Title != "" {
		title += ": " + p.Title
	}
	fmt.Fprintf(&b, `<text x="%d" y="28" font-size="17" font-weight="bold" text-anchor="middle">%s</text>`+"\n", svgWidth/2, esc(title))
	fmt.Fprintf(&b, `<text x="%d" y="50" font-size="12" text-anchor="middle" fill="#444">pin 1 is the square pad; odd pins are on the row nearer the middle of the board</text>`+"\n", svgWidth/2)
	// The header's plastic body.
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="#2b2b2b"/>`+"\n",
		oddX-24, topMargin-22, evenX-oddX+48, 20*rowHeight+14)
	colour := map[string]string{}
	for i, j := range p.Jumpers {
		colour[j.Name] = jumperColours[i%len(jumperColours)]
	}
	pinXY := func(n int) (int, int) {
		x := oddX
		if n%2 == 0 {
			x = evenX
		}
		return x, topMargin + (n-1)/2*rowHeight
	}
	// Jumpers: the links under the pins, so pin numbers stay readable; the letters on top.
	type badge struct {
		x, y   int
		colour string
		name   string
	}
	var badges []badge
	for _, j := range p.Jumpers {
		x1, y1 := pinXY(j.Line.Number)
		x2, y2 := pinXY(j.Partner.Number)
		c := colour[j.Name]
		var path string
		lx, ly := (x1+x2)/2, (y1+y2)/2
		switch {
		case x1 == x2 && !along(j.Line, j.Partner):
			// A wire along one column, bowed out to the side so it does not hide the pins between.
			bow := -bowOut
			if x1 == evenX {
				bow = bowOut
			}
			path = fmt.Sprintf("M %d %d C %d %d %d %d %d %d", x1, y1, x1+bow*4/3, y1, x1+bow*4/3, y2, x2, y2)
			lx += bow
		case x1 == x2:
			// A cap along the column: its letter beside it, outside the header.
			path = fmt.Sprintf("M %d %d L %d %d", x1, y1, x2, y2)
			if x1 == oddX {
				lx -= 22
			} else {
				lx += 22
			}
		default:
			path = fmt.Sprintf("M %d %d L %d %d", x1, y1, x2, y2)
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="8" stroke-linecap="round" opacity="0.9"/>`+"\n", path, c)
		badges = append(badges, badge{lx, ly, c, j.Name})
	}
	// Pins and their labels.
	for n := 1; n <= 40; n++ {
		pin := Pins[n-1]
		x, y := pinXY(n)
		fill := kindColours[pin.Kind]
		j, test, jumpered := p.at(n)
		switch {
		case jumpered:
			fill = colour[j.Name]
		case pin.Reserved != "":
			fill = reservedColour
		}
		stroke := `stroke="#fff" stroke-width="1"`
		if jumpered && test {
			stroke = `stroke="#fff" stroke-width="3"`
		}
		if n == 1 {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s" %s/>`+"\n", x-pinRadius, y-pinRadius, 2*pinRadius, 2*pinRadius, fill, stroke)
		} else {
			fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="%d" fill="%s" %s/>`+"\n", x, y, pinRadius, fill, stroke)
		}
		numColour := "#fff"
		if fill == reservedColour {
			numColour = "#333"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" text-anchor="middle" fill="%s">%d</text>`+"\n", x, y+4, numColour, n)
		label := pin.Name()
		if pin.Function != "" {
			label += " · " + pin.Function
		}
		if pin.Reserved != "" && !jumpered {
			label += " (" + shortReason[pin.Reserved] + ")"
		}
		if jumpered {
			role := "partner"
			if test {
				role = "under test"
			}
			label = fmt.Sprintf("%s — %s %s", label, j.Name, role)
		}
		weight, labelColour := "normal", "#222"
		if jumpered {
			weight, labelColour = "bold", colour[j.Name]
		} else if pin.Reserved != "" {
			labelColour = "#888"
		}
		if n%2 == 1 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end" font-weight="%s" fill="%s">%s</text>`+"\n", oddX-labelGap, y+4, weight, labelColour, esc(label))
		} else {
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="start" font-weight="%s" fill="%s">%s</text>`+"\n", evenX+labelGap, y+4, weight, labelColour, esc(label))
		}
	}
	for _, bd := range badges {
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="9" fill="white" stroke="%s" stroke-width="2"/>`+"\n", bd.x, bd.y, bd.colour)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" font-weight="bold" text-anchor="middle" fill="%s">%s</text>`+"\n", bd.x, bd.y+4, bd.colour, esc(bd.name))
	}
	// Legend.
	y := legendTop
	for _, j := range p.Jumpers {
		fmt.Fprintf(&b, `<rect x="40" y="%d" width="22" height="14" rx="3" fill="%s"/>`+"\n", y-11, colour[j.Name])
		fmt.Fprintf(&b, `<text x="70" y="%d" font-size="12"><tspan font-weight="bold">%s</tspan>  %s under test — partner %s: %s</text>`+"\n",
			y, esc(j.Name), esc(j.Line.String()), esc(j.Partner.String()), esc(j.Fit()))
		y += 22
	}
	if len(p.Jumpers) == 0 {
		fmt.Fprintf(&b, `<text x="40" y="%d" font-size="12">no jumpers</text>`+"\n", y)
		y += 22
	}
	fmt.Fprintf(&b, `<circle cx="51" cy="%d" r="7" fill="%s"/><text x="70" y="%d" font-size="12" fill="#444">left alone: ID EEPROM GPIO0-1, fixed pull-ups GPIO2-3, console GPIO14-15, SPI0 GPIO7-11</text>`+"\n", y-4, reservedColour, y)
	y += 22
	fmt.Fprintf(&b, `<text x="40" y="%d" font-size="12" fill="#444">thick white ring: the line under test; the other end of its jumper is the partner that watches it</text>`+"\n", y)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
