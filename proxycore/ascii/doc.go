// Package ascii is the memcached text-protocol codec: the classic commands
// (get, set, delete, incr, ...) and the meta commands (mg, ms, md, ma, mn,
// me) of memcached 1.6.
//
// Reader turns client bytes into Requests, reusing buffers so that a steady
// stream of requests does not allocate. Protocol errors come back as *Error
// values that carry the exact reply memcached 1.6 gives and whether the
// connection must be closed, so that the proxy and the built-in server answer
// bad input the same way memcached does.
package ascii
