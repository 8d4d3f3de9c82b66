/* SPDX-License-Identifier: MIT */
/*
 * hash.c - secrets and the long-key path of the keyed hash (hash.h).
 *
 * Structure of the long path (the wyhash/rapidhash shape): the state is
 * seeded from the secrets and the length; 48-byte blocks feed three
 * independent lanes (so the multiplies overlap), 16-byte blocks one lane,
 * and the last 16 bytes (overlapping what came before when the length is
 * not a multiple of 16) go through a final 128-bit multiply and fold.
 * Every step multiplies data XOR secret by data XOR state, so each input
 * bit reaches every output bit through at least two full multiplies; and
 * every such step also multiplies the same words offset by two more
 * secrets (gc_hash_mix), so no word can be zeroed out of the hash.
 */
#include "map/hash.h"

static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* splitmix64: spreads one seed into independent-looking secrets. */
static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void gc_hash_init(struct gc_hash_key *hk, uint64_t seed)
{
    uint64_t s = seed;
    /* Odd secrets: a multiply by an even factor would drop a low bit of
     * the product for every key. */
    hk->k0 = splitmix(&s);
    hk->k1 = splitmix(&s) | 1;
    hk->k2 = splitmix(&s);
    hk->k3 = splitmix(&s) | 1;
    hk->p0 = splitmix(&s) | 1;
    hk->p1 = splitmix(&s) | 1;
}

uint64_t gc_hash_bytes(const struct gc_hash_key *hk, const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t s = hk->k0 ^ gc_hash_mum(hk->k1 ^ len, hk->k2);
    uint64_t a, b;
    size_t i = len;

    if (len <= 8)
        return gc_hash_word(hk, gc_key_word(p, len), len);
    if (len <= 16) {
        a = rd64(p);
        b = rd64(p + len - 8);
    } else {
        if (i > 48) {
            uint64_t s1 = s ^ hk->k3, s2 = s ^ hk->k2;
            do {
                s = gc_hash_mix(hk, rd64(p) ^ hk->k1, rd64(p + 8) ^ s);
                s1 = gc_hash_mix(hk, rd64(p + 16) ^ hk->k2, rd64(p + 24) ^ s1);
                s2 = gc_hash_mix(hk, rd64(p + 32) ^ hk->k3, rd64(p + 40) ^ s2);
                p += 48;
                i -= 48;
            } while (i > 48);
            s ^= s1 ^ s2;
        }
        while (i > 16) {
            s = gc_hash_mix(hk, rd64(p) ^ hk->k1, rd64(p + 8) ^ s);
            p += 16;
            i -= 16;
        }
        a = rd64(p + i - 16);
        b = rd64(p + i - 8);
    }
    {
        /* The last two words, each kept whole (r and r2 are not both zero
         * for a free word: gc_hash_mix), then folded with the length. */
        __uint128_t r = (__uint128_t)(a ^ hk->k1) * (b ^ s);
        __uint128_t r2 = (__uint128_t)(a ^ hk->k1 ^ hk->p0) * (b ^ s ^ hk->p1);
        return gc_hash_mum((uint64_t)(r ^ r2) ^ hk->k0 ^ len, (uint64_t)((r ^ r2) >> 64) ^ hk->k1);
    }
}
