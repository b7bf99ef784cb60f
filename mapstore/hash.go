package mapstore

import (
	"crypto/md5"
	"encoding/binary"
	"hash/crc32"
)

// The hash functions below reproduce libhashkit 1.x bit for bit, as built
// on x86, where the C code reads keys through a plain (signed) char. A key
// byte >= 0x80 therefore enters one_at_a_time and the FNV variants
// sign-extended (0x80 becomes 0xffffff80); md5 and crc work on unsigned
// bytes. Getting this wrong only shows up with non-ASCII keys, which is
// exactly where a silent mismatch with client-side libmemcached would hurt.

// sext returns b as a C signed char promoted to uint32.
func sext(b byte) uint32 { return uint32(int32(int8(b))) }

// HashOneAtATime is libhashkit's one_at_a_time (Jenkins OAAT), the default
// hash of libmemcached and the key hash of MODULA distribution.
func HashOneAtATime(key []byte) uint32 {
	var h uint32
	for _, b := range key {
		h += sext(b)
		h += h << 10
		h ^= h >> 6
	}
	h += h << 3
	h ^= h >> 11
	h += h << 15
	return h
}

// HashMD5 is libhashkit's md5: the first four digest bytes read
// little-endian. It is the key hash of ketama distribution.
func HashMD5(key []byte) uint32 {
	d := md5.Sum(key)
	return binary.LittleEndian.Uint32(d[:4])
}

// HashCRC is libhashkit's crc: bits 16..30 of the IEEE CRC-32. Only 15 bits
// survive, so it is a poor ketama hash, but it is what clients configured
// with MEMCACHED_HASH_CRC compute (and what vbucket maps use).
func HashCRC(key []byte) uint32 {
	return (crc32.ChecksumIEEE(key) >> 16) & 0x7fff
}

const (
	fnv32Offset uint32 = 2166136261
	fnv32Prime  uint32 = 16777619
	fnv64Offset uint64 = 0xcbf29ce484222325
	fnv64Prime  uint64 = 0x100000001b3
)

// HashFNV1_32 is libhashkit's fnv1_32 (multiply, then xor).
func HashFNV1_32(key []byte) uint32 {
	h := fnv32Offset
	for _, b := range key {
		h *= fnv32Prime
		h ^= sext(b)
	}
	return h
}

// HashFNV1a_32 is libhashkit's fnv1a_32 (xor, then multiply).
func HashFNV1a_32(key []byte) uint32 {
	h := fnv32Offset
	for _, b := range key {
		h ^= sext(b)
		h *= fnv32Prime
	}
	return h
}

// HashFNV1_64 is libhashkit's fnv1_64 truncated to the low 32 bits, as
// libhashkit returns it.
func HashFNV1_64(key []byte) uint32 {
	h := fnv64Offset
	for _, b := range key {
		h *= fnv64Prime
		h ^= uint64(int64(int8(b)))
	}
	return uint32(h)
}

// HashFNV1a_64 is libhashkit's fnv1a_64 truncated to the low 32 bits.
func HashFNV1a_64(key []byte) uint32 {
	h := fnv64Offset
	for _, b := range key {
		h ^= uint64(int64(int8(b)))
		h *= fnv64Prime
	}
	return uint32(h)
}

// HashMurmur is libhashkit's murmur: MurmurHash2 with the seed
// 0xdeadbeef*len that libhashkit uses. It reads unsigned bytes.
func HashMurmur(key []byte) uint32 {
	const m = 0x5bd1e995
	const r = 24
	n := uint32(len(key))
	h := (0xdeadbeef * n) ^ n
	for len(key) >= 4 {
		k := binary.LittleEndian.Uint32(key)
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
		key = key[4:]
	}
	switch len(key) {
	case 3:
		h ^= uint32(key[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(key[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(key[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
