package memserver

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// generalStats writes "stats": memcached 1.6's names in memcached's order,
// so that tools that read them by position or name find them. Where this
// server has no such mechanism (libevent, response objects and read
// buffers, listen limits, hash table growth, slab rebalancing, the LRU
// crawler and maintainer, log watchers), the value says so: "none" for
// libevent, 0 for the counters of things that never happen here.
func (s *Server) generalStats(sw *statWriter) {
	st, items, bytes := s.store.stats()
	now := s.cfg.Clock()
	sw.i("pid", int64(os.Getpid()))
	sw.i("uptime", int64(now.Sub(s.started).Seconds()))
	sw.i("time", now.Unix())
	sw.s("version", s.cfg.Version)
	sw.s("libevent", "none")
	sw.i("pointer_size", 64)
	user, sys := rusage()
	sw.s("rusage_user", user)
	sw.s("rusage_system", sys)
	sw.i("max_connections", int64(s.cfg.MaxConns))
	curr := s.currConns.Load()
	sw.i("curr_connections", curr)
	sw.u("total_connections", s.totalConns.Load())
	sw.u("rejected_connections", s.ns.Rejected())
	sw.i("connection_structures", curr+1)
	zeros(sw, "response_obj_oom", "response_obj_count", "response_obj_bytes", "read_buf_count",
		"read_buf_bytes", "read_buf_bytes_free", "read_buf_oom", "reserved_fds")
	sw.u("cmd_get", st.cmdGet)
	sw.u("cmd_set", st.cmdSet)
	sw.u("cmd_flush", st.cmdFlush)
	sw.u("cmd_touch", st.cmdTouch)
	sw.u("cmd_meta", s.cmdMeta.Load())
	sw.u("get_hits", st.getHits)
	sw.u("get_misses", st.getMisses)
	sw.u("get_expired", st.getExpired)
	sw.u("get_flushed", st.getFlushed)
	sw.u("delete_misses", st.deleteMisses)
	sw.u("delete_hits", st.deleteHits)
	sw.u("incr_misses", st.incrMisses)
	sw.u("incr_hits", st.incrHits)
	sw.u("decr_misses", st.decrMisses)
	sw.u("decr_hits", st.decrHits)
	sw.u("cas_misses", st.casMisses)
	sw.u("cas_hits", st.casHits)
	sw.u("cas_badval", st.casBadval)
	sw.u("touch_hits", st.touchHits)
	sw.u("touch_misses", st.touchMisses)
	sw.u("store_too_large", st.storeTooLarge)
	sw.u("store_no_memory", st.storeNoMemory)
	zeros(sw, "auth_cmds", "auth_errors")
	sw.u("bytes_read", s.bytesRead.Load())
	sw.u("bytes_written", s.bytesWritten.Load())
	sw.i("limit_maxbytes", s.cfg.MaxBytes)
	sw.i("accepting_conns", 1)
	zeros(sw, "listen_disabled_num", "time_in_listen_disabled_us")
	sw.i("threads", int64(runtime.GOMAXPROCS(0)))
	sw.u("conn_yields", 0)
	sw.i("hash_power_level", 16)
	sw.i("hash_bytes", 8<<16)
	zeros(sw, "hash_is_expanding", "slab_reassign_rescues", "slab_reassign_chunk_rescues",
		"slab_reassign_evictions_nomem", "slab_reassign_inline_reclaim", "slab_reassign_busy_items",
		"slab_reassign_busy_deletes", "slab_reassign_running", "slabs_moved", "lru_crawler_running",
		"lru_crawler_starts", "lru_maintainer_juggles", "malloc_fails", "log_worker_dropped",
		"log_worker_written", "log_watcher_skipped", "log_watcher_sent", "log_watchers",
		"unexpected_napi_ids", "round_robin_fallback")
	sw.i("bytes", bytes)
	sw.i("curr_items", int64(items))
	sw.u("total_items", st.totalItems)
	sw.u("slab_global_page_pool", 0)
	sw.u("expired_unfetched", st.expiredUnfetched)
	sw.u("evicted_unfetched", st.evictedUnfetched)
	sw.u("evicted_active", 0)
	sw.u("evictions", st.evictions)
	sw.u("reclaimed", st.reclaimed)
	zeros(sw, "crawler_reclaimed", "crawler_items_checked", "lrutail_reflocked", "moves_to_cold",
		"moves_to_warm", "moves_within_lru", "direct_reclaims", "lru_bumps_dropped")
}

func zeros(sw *statWriter, names ...string) {
	for _, n := range names {
		sw.u(n, 0)
	}
}

// rusage is the process's user and system CPU time as memcached prints
// them: seconds with six decimals.
func rusage() (user, sys string) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return "0.000000", "0.000000"
	}
	return timeval(ru.Utime), timeval(ru.Stime)
}

func timeval(tv syscall.Timeval) string {
	us := strconv.FormatInt(int64(tv.Usec)+1_000_000, 10)[1:] // six digits, zero-padded
	return strconv.FormatInt(int64(tv.Sec), 10) + "." + us
}
