package server

// HasPolicy reports whether a full method name has an access policy entry.
func HasPolicy(method string) bool { _, ok := policy[method]; return ok }
