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

// Known, deliberate differences from memcached 1.6.18's parser:
//
//   - The 2048-byte line guard is applied to the line, not to whatever one
//     read() returned: memcached still runs an over-long line when its "\n"
//     arrives in the same read, the Reader always closes (Error.Close).
//   - gat and gats lines may exceed 2048 bytes like get and gets (memcached
//     exempts only get/gets); every multi-get line is capped at
//     MaxMultiGetLineLength, where memcached has no cap.
//   - memcached checks an over-long mg/ma opaque only while building the
//     reply, after the lookup (and after a touch or an increment); the
//     Reader refuses the command up front with the same reply.
//   - The legacy "bget" and the admin commands (shutdown, slabs, lru,
//     watch, lru_crawler, cache_memlimit, ...) are unknown here ("ERROR").
