package slo

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Day is 24 hours, the unit SLO periods are written in.
const Day = 24 * time.Hour

// DefaultPeriod is the SLO period when none is configured: the Workbook's
// 30 days, Sloth's default too.
const DefaultPeriod = 30 * Day

// Window is one multiwindow alert, as Sloth's AlertWindows spec writes it:
// it fires when both windows burn faster than the rate that would spend
// BudgetPercent of the period's error budget within Long.
type Window struct {
	// BudgetPercent is the share of the period's error budget, in percent,
	// that burning at the threshold for the whole long window spends.
	BudgetPercent float64
	// Short confirms that the problem is still happening, so the alert
	// stops soon after it ends even though Long still remembers it.
	Short time.Duration
	// Long measures how much budget the problem has burnt.
	Long time.Duration
}

// Windows are the four alerts of one SLO period.
type Windows struct {
	Period      time.Duration
	PageQuick   Window
	PageSlow    Window
	TicketQuick Window
	TicketSlow  Window
}

// workbook30d are the SRE Workbook's recommended parameters for a 30-day
// period, which Sloth also uses for 28 days.
var workbook30d = Windows{
	Period:      DefaultPeriod,
	PageQuick:   Window{BudgetPercent: 2, Short: 5 * time.Minute, Long: time.Hour},
	PageSlow:    Window{BudgetPercent: 5, Short: 30 * time.Minute, Long: 6 * time.Hour},
	TicketQuick: Window{BudgetPercent: 10, Short: 2 * time.Hour, Long: Day},
	TicketSlow:  Window{BudgetPercent: 10, Short: 6 * time.Hour, Long: 3 * Day},
}

// DefaultWindows returns the alerts for period (DefaultPeriod when zero).
// 30 and 28 days are Sloth's catalog: the Workbook's windows, with
// thresholds that follow the period. Any other period gets the Workbook's
// windows scaled by period/30d, to the second, which keeps the Workbook's
// thresholds; see the package documentation.
func DefaultWindows(period time.Duration) Windows {
	if period <= 0 {
		period = DefaultPeriod
	}
	w := workbook30d
	w.Period = period
	if period == DefaultPeriod || period == 28*Day {
		return w
	}
	scale := func(d time.Duration) time.Duration {
		s := time.Duration(float64(d) * float64(period) / float64(DefaultPeriod)).Round(time.Second)
		return max(s, time.Second)
	}
	for _, a := range []*Window{&w.PageQuick, &w.PageSlow, &w.TicketQuick, &w.TicketSlow} {
		a.Short, a.Long = scale(a.Short), scale(a.Long)
	}
	return w
}

// Validate reports every problem with w at once.
func (w Windows) Validate() error {
	var errs []error
	if w.Period <= 0 {
		errs = append(errs, fmt.Errorf("period %v: must be positive", w.Period))
	}
	for _, a := range w.Alerts() {
		win := a.Window
		switch {
		case win.Short <= 0 || win.Long <= 0:
			errs = append(errs, fmt.Errorf("%s: windows %v/%v must be positive", a.Name, win.Long, win.Short))
		case win.Short >= win.Long:
			errs = append(errs, fmt.Errorf("%s: short window %v must be shorter than the long window %v", a.Name, win.Short, win.Long))
		case w.Period > 0 && win.Long > w.Period:
			errs = append(errs, fmt.Errorf("%s: long window %v is longer than the period %v", a.Name, win.Long, w.Period))
		}
		if !(win.BudgetPercent > 0 && win.BudgetPercent <= 100) {
			errs = append(errs, fmt.Errorf("%s: budget percent %v must be in (0, 100]", a.Name, win.BudgetPercent))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("slo windows: %w", err)
	}
	return nil
}

// Alert is one of the four multiwindow alerts with its threshold worked out.
type Alert struct {
	// Name is Sloth's: page-quick, page-slow, ticket-quick, ticket-slow.
	Name string
	// Level is LevelPage or LevelTicket.
	Level  Level
	Window Window
	// Threshold is the burn rate both windows must exceed.
	Threshold float64
}

// Alerts returns the four alerts, pages first, quick before slow.
func (w Windows) Alerts() []Alert {
	return []Alert{
		w.alert("page-quick", LevelPage, w.PageQuick),
		w.alert("page-slow", LevelPage, w.PageSlow),
		w.alert("ticket-quick", LevelTicket, w.TicketQuick),
		w.alert("ticket-slow", LevelTicket, w.TicketSlow),
	}
}

// alert works out a threshold the way Sloth's getBurnRateFactor does: the
// burn that spends BudgetPercent of the period's budget in the long window.
func (w Windows) alert(name string, lvl Level, win Window) Alert {
	th := math.NaN()
	if win.Long > 0 {
		th = win.BudgetPercent / 100 * w.Period.Hours() / win.Long.Hours()
	}
	return Alert{Name: name, Level: lvl, Window: win, Threshold: th}
}

// Durations returns every window the alerts need, shortest first, without
// repeats, followed by the period itself (for the budget).
func (w Windows) Durations() []time.Duration {
	var ds []time.Duration
	for _, a := range w.Alerts() {
		ds = append(ds, a.Window.Short, a.Window.Long)
	}
	slices.Sort(ds)
	ds = slices.Compact(ds)
	if !slices.Contains(ds, w.Period) {
		ds = append(ds, w.Period)
	}
	return ds
}

// FormatWindow writes d as a Prometheus duration: 5m, 1h, 1d, 30d. It
// writes what model.Duration of Prometheus's common module writes (a test
// holds the two together), without that module's protobuf dependencies.
func FormatWindow(d time.Duration) string {
	ms := d.Milliseconds()
	if ms == 0 {
		return "0s"
	}
	var b []byte
	if ms < 0 {
		b, ms = append(b, '-'), -ms
	}
	// Years and weeks only when exact: 90d reads better than 12w6d.
	for _, u := range [...]struct {
		name  string
		ms    int64
		exact bool
	}{
		{"y", 365 * int64(Day/time.Millisecond), true},
		{"w", 7 * int64(Day/time.Millisecond), true},
		{"d", int64(Day / time.Millisecond), false},
		{"h", int64(time.Hour / time.Millisecond), false},
		{"m", int64(time.Minute / time.Millisecond), false},
		{"s", int64(time.Second / time.Millisecond), false},
		{"ms", 1, false},
	} {
		if u.exact && ms%u.ms != 0 {
			continue
		}
		if n := ms / u.ms; n > 0 {
			b = strconv.AppendInt(b, n, 10)
			b = append(b, u.name...)
			ms -= n * u.ms
		}
	}
	return string(b)
}

// MinPeriod is the shortest SLO period Ooda accepts: the fast page's
// windows are 1/720 and 1/8640 of the period, a couple of minutes and ten
// seconds for a day.
const MinPeriod = Day

// checkPeriod refuses a period too short to alert on.
func checkPeriod(d time.Duration) error {
	if d < MinPeriod {
		return fmt.Errorf("%s: an SLO period must be a day or more (the fast page's windows are 1/720 and 1/8640 of it); 28d or 30d are usual", FormatWindow(d))
	}
	return nil
}

// ParsePeriod reads an SLO period written as a Prometheus duration (30d,
// 4w, 720h) and checks that it is one Ooda can alert on.
func ParsePeriod(s string) (time.Duration, error) {
	d, err := ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if err := checkPeriod(d); err != nil {
		return 0, err
	}
	return d, nil
}

// durationUnits are Prometheus's duration units, largest first, as
// model.ParseDuration of Prometheus's common module reads them.
var durationUnits = []struct {
	name string
	d    time.Duration
}{
	{"y", 365 * Day}, {"w", 7 * Day}, {"d", Day}, {"h", time.Hour},
	{"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond},
}

// ParseDuration reads a Prometheus duration: whole numbers with units
// from years down to milliseconds, each once, largest first (1d12h, 90m,
// 30d). A test holds it to model.ParseDuration, which this package may not
// import.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q: want a duration such as 30d, 4w or 720h", s)
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	prev := -1
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if i == 0 || err != nil {
			return 0, bad
		}
		rest = rest[i:]
		unit := -1
		for j, u := range durationUnits {
			if strings.HasPrefix(rest, u.name) && (u.name != "m" || !strings.HasPrefix(rest, "ms")) {
				unit = j
				break
			}
		}
		if unit <= prev {
			return 0, bad
		}
		prev = unit
		u := durationUnits[unit]
		rest = rest[len(u.name):]
		if n > int64(math.MaxInt64/u.d) || total+time.Duration(n)*u.d < total {
			return 0, bad
		}
		total += time.Duration(n) * u.d
	}
	if prev < 0 {
		return 0, bad
	}
	return total, nil
}
