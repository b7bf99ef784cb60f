package restconfig

import "errors"

// ErrUnauthorized is wrapped by the error Run returns when a REST server
// answers 401. moxi treats that as fatal (it logs "ERROR: Authentication
// failure" and exits 1) because retrying with the same credentials cannot
// succeed; the caller decides how to exit.
var ErrUnauthorized = errors.New("authentication failure")

// errConfigTooLarge marks a message that grew past Config.MaxConfigSize
// without a delimiter: a broken or hostile server must not exhaust memory.
var errConfigTooLarge = errors.New("config too large")
