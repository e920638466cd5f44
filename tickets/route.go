package tickets

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotRouted is matched (errors.Is) by Routes.Route's error when a
// service has no route and there is no default.
var ErrNotRouted = errors.New("no tracker route")

// Routes sends each service's tickets to a tracker's project.
type Routes struct {
	def      *Route
	services map[string]Route // by lower-case service
}

// Routes returns the routes of a validated Config.
func (c Config) Routes() Routes {
	r := Routes{services: make(map[string]Route, len(c.Services))}
	if c.Default != nil {
		d := *c.Default
		r.def = &d
	}
	for svc, route := range c.Services {
		r.services[strings.ToLower(strings.TrimSpace(svc))] = route
	}
	return r
}

// Route returns where service's tickets go: its own route, matched in any
// case, else the default. Without either it returns an error wrapping
// ErrNotRouted whose sentence says what to configure.
func (r Routes) Route(service string) (Route, error) {
	if route, ok := r.services[strings.ToLower(strings.TrimSpace(service))]; ok && service != "" {
		return route, nil
	}
	if r.def != nil {
		return *r.def, nil
	}
	if strings.TrimSpace(service) == "" {
		return Route{}, &routeError{"no tracker route for an incident without a service and no default route; add default: {tracker: …, project: …} under tickets: in the config"}
	}
	return Route{}, &routeError{fmt.Sprintf("no tracker route for service %s and no default route; add one under tickets: in the config", service)}
}

// Routed reports whether an incident of service has a tracker to open
// tickets in: its own route, or the default (the dispatcher's
// command.Tickets).
func (r Routes) Routed(service string) bool {
	_, err := r.Route(service)
	return err == nil
}

type routeError struct{ msg string }

func (e *routeError) Error() string        { return e.msg }
func (e *routeError) Is(target error) bool { return target == ErrNotRouted }
