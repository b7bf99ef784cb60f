// Package netserve is the accept loop shared by the proxy and the built-in
// memcached server: it accepts connections, backs off on temporary accept
// errors, runs one handler goroutine per connection with panic recovery, and
// shuts down by closing listeners and then connections.
package netserve
