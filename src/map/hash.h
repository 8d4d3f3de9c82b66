/* SPDX-License-Identifier: MIT */
/*
 * hash.h - the library's keyed 64-bit hash (wyhash/rapidhash family:
 * 64x64->128-bit multiply-and-fold mixing), written for goconc.
 *
 * Every map derives four secrets from its seed, so colliding keys cannot
 * be precomputed without the seed (HashDoS).  Keys of at most 8 bytes take
 * an inline path: the key is loaded into one zero-padded word and mixed
 * with two multiplies; the map keeps such keys inline as that very word,
 * so migration rehashes them without touching the bytes again.
 */
#ifndef GOCONC_HASH_H
#define GOCONC_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct gc_hash_key {
    uint64_t k0, k1, k2, k3;
    uint64_t p0, p1; /* odd: the second product of gc_hash_mix */
};

/* Derive the secrets from @p seed (any value, 0 included). */
void gc_hash_init(struct gc_hash_key *hk, uint64_t seed);

/* Hash of any length; equal to gc_hash() (short keys take its inline path). */
uint64_t gc_hash_bytes(const struct gc_hash_key *hk, const void *p, size_t len);

/* 64x64 -> 128 multiply, folded: the mixing step of the whole family. */
static inline uint64_t gc_hash_mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * Two words of data (each XORed with secrets or state) into one.  A
 * single product vanishes whenever one factor is zero, whatever the
 * other: with a known seed, fixing one key word to a seed-derived value
 * would make every key that differs only in the other words collide.
 * The second product, of the same words offset by other secrets, is zero
 * only at isolated points, so no free word is lost.
 */
static inline uint64_t gc_hash_mix(const struct gc_hash_key *hk, uint64_t a, uint64_t b)
{
    return gc_hash_mum(a, b) ^ gc_hash_mum(a ^ hk->p0, b ^ hk->p1);
}

/*
 * The bytes of a key of len <= 8, zero-padded into one word (memory order,
 * so storing the word back yields the key bytes; gc_word_bytes does).
 * With fixed-size accesses that overlap instead of a memcpy of len bytes,
 * which is a call: one call on a path makes the compiler save registers
 * on every path of the map's short load and store (doc/map.md).
 */
static inline uint64_t gc_key_word(const void *p, size_t len)
{
    const unsigned char *b = (const unsigned char *)p;
    uint64_t w = 0;
    uint32_t lo, hi;

    if (len == 8) {
        memcpy(&w, p, 8);
    } else if (len >= 4 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
        memcpy(&lo, b, 4);
        memcpy(&hi, b + len - 4, 4);
        w = lo | (uint64_t)hi << (8 * (len - 4));
    } else if (len && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
        /* 1..3 bytes: the first, the middle and the last cover them. */
        w = b[0] | (uint64_t)b[len / 2] << (8 * (len / 2)) |
            (uint64_t)b[len - 1] << (8 * (len - 1));
    } else if (len) {
        memcpy(&w, p, len);
    }
    return w;
}

/* Store the first n (<= 8) bytes of word w (gc_key_word's inverse).
 * Always inline: left out of line in swap's fast case, the call spilled
 * its registers (3 instructions a swap). */
static inline __attribute__((always_inline)) void gc_word_bytes(void *p, uint64_t w, size_t n)
{
    unsigned char *b = (unsigned char *)p;
    uint32_t lo = (uint32_t)w, hi;

    if (n == 8) {
        memcpy(p, &w, 8);
    } else if (n >= 4 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
        hi = (uint32_t)(w >> (8 * (n - 4)));
        memcpy(b, &lo, 4);
        memcpy(b + n - 4, &hi, 4);
    } else if (n && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
        b[0] = (unsigned char)w;
        b[n / 2] = (unsigned char)(w >> (8 * (n / 2)));
        b[n - 1] = (unsigned char)(w >> (8 * (n - 1)));
    } else if (n) {
        memcpy(p, &w, n);
    }
}

/* Hash of a key of len <= 8 given as its word (gc_key_word). */
static inline uint64_t gc_hash_word(const struct gc_hash_key *hk, uint64_t w, size_t len)
{
    __uint128_t r = (__uint128_t)(w ^ hk->k0) * (hk->k1 ^ ((uint64_t)len << 56));
    return gc_hash_mum((uint64_t)r ^ hk->k2, (uint64_t)(r >> 64) ^ hk->k3);
}

static inline uint64_t gc_hash(const struct gc_hash_key *hk, const void *p, size_t len)
{
    if (len <= 8)
        return gc_hash_word(hk, gc_key_word(p, len), len);
    return gc_hash_bytes(hk, p, len);
}

#endif /* GOCONC_HASH_H */
