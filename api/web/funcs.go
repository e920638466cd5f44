package web

import "html/template"

// funcs are the functions every template may call.
var funcs = template.FuncMap{}
