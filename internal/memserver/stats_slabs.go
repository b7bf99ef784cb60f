package memserver

import (
	"strconv"
)

// itemsStats writes "stats items": memcached's names for every class
// that holds items. This server has one LRU, not memcached's hot, warm
// and cold segments, so every item counts as hot; what it has no
// mechanism for (tail repairs, the LRU crawler, segment moves) is 0.
func (s *Server) itemsStats(sw *statWriter) {
	reports, st, now := s.store.classReports()
	for cls := 1; cls <= numSlabClasses; cls++ {
		r := reports[cls]
		if r.count == 0 {
			continue
		}
		p := "items:" + strconv.Itoa(cls) + ":"
		age := uint64(max(now-r.oldest, 0))
		sw.u(p+"number", uint64(r.count))
		sw.u(p+"number_hot", uint64(r.count))
		sw.u(p+"number_warm", 0)
		sw.u(p+"number_cold", 0)
		sw.u(p+"age_hot", age)
		sw.u(p+"age_warm", 0)
		sw.u(p+"age", age)
		sw.u(p+"mem_requested", uint64(r.requested))
		for _, name := range []string{"evicted", "evicted_nonzero", "evicted_time", "outofmemory", "tailrepairs"} {
			sw.u(p+name, 0)
		}
		sw.u(p+"reclaimed", 0)
		sw.u(p+"expired_unfetched", 0)
		sw.u(p+"evicted_unfetched", 0)
		for _, name := range []string{"evicted_active", "crawler_reclaimed", "crawler_items_checked",
			"lrutail_reflocked", "moves_to_cold", "moves_to_warm", "moves_within_lru", "direct_reclaims"} {
			sw.u(p+name, 0)
		}
		c := st.cls[cls]
		sw.u(p+"hits_to_hot", c.getHits+c.touchHits)
		sw.u(p+"hits_to_warm", 0)
		sw.u(p+"hits_to_cold", 0)
		sw.u(p+"hits_to_temp", 0)
	}
}

// slabsStats writes "stats slabs": each class that holds items, with the
// pages memcached would have given it, then the totals.
func (s *Server) slabsStats(sw *statWriter) {
	reports, st, _ := s.store.classReports()
	active, pages := 0, int64(0)
	for cls := 1; cls <= numSlabClasses; cls++ {
		r := reports[cls]
		if r.count == 0 {
			continue
		}
		chunk := chunkSize(cls)
		perPage := int64(slabPageSize) / chunk
		used := int64(r.count)
		n := (used + perPage - 1) / perPage
		active++
		pages += n
		p := strconv.Itoa(cls) + ":"
		c := st.cls[cls]
		sw.i(p+"chunk_size", chunk)
		sw.i(p+"chunks_per_page", perPage)
		sw.i(p+"total_pages", n)
		sw.i(p+"total_chunks", n*perPage)
		sw.i(p+"used_chunks", used)
		sw.i(p+"free_chunks", n*perPage-used)
		sw.i(p+"free_chunks_end", 0)
		sw.u(p+"get_hits", c.getHits)
		sw.u(p+"cmd_set", c.cmdSet)
		sw.u(p+"delete_hits", c.deleteHits)
		sw.u(p+"incr_hits", c.incrHits)
		sw.u(p+"decr_hits", c.decrHits)
		sw.u(p+"cas_hits", c.casHits)
		sw.u(p+"cas_badval", c.casBadval)
		sw.u(p+"touch_hits", c.touchHits)
	}
	sw.i("active_slabs", int64(active))
	sw.i("total_malloced", pages*slabPageSize)
}

// fmtItemLine is one "stats cachedump" line: the key, the value's length
// and the absolute expiry (0 for none).
func fmtItemLine(it *item) []byte {
	b := append([]byte("ITEM "), it.key...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(len(it.value)), 10)
	b = append(b, " b; "...)
	b = strconv.AppendInt(b, it.exp, 10)
	return append(b, " s]\r\n"...)
}

// parseCachedump reads "cachedump <class> <limit>"'s arguments as
// memcached does; errLine is its reply when they do not parse.
func parseCachedump(args [][]byte) (cls, limit int, errLine string) {
	const maxSlabID = 63 // memcached's MAX_NUMBER_OF_SLAB_CLASSES - 1
	if len(args) < 3 {
		return 0, 0, "CLIENT_ERROR bad command line"
	}
	c, err1 := strconv.ParseUint(string(args[1]), 10, 32)
	l, err2 := strconv.ParseUint(string(args[2]), 10, 32)
	switch {
	case err1 != nil || err2 != nil:
		return 0, 0, "CLIENT_ERROR bad command line format"
	case c > maxSlabID:
		return 0, 0, "CLIENT_ERROR Illegal slab id"
	}
	return int(c), int(l), ""
}
