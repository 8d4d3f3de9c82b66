/* SPDX-License-Identifier: MIT */
/*
 * map_peers.c - the registry of bench_map's maps: goconc first, then every
 * peer whose package meson found (bench/meson.build defines HAVE_PEER_*
 * and compiles the adapter), strongest concurrent designs first, the
 * single-threaded baselines last.  This is the only place that knows which
 * peers were built; the harness walks the table.  The DashMap peer is a
 * separate program and is added by bench_map.c when its binary exists.
 */
#include "map_peer.h"

const struct map_peer *const map_peers[] = {
    &mp_goconc_peer,
    &mp_goconc_np_peer,
#ifdef HAVE_PEER_CUCKOO
    &mp_cuckoo_peer,
#endif
#ifdef HAVE_PEER_ABSL
    &mp_absl64_peer,
#endif
#ifdef HAVE_PEER_CK
    &mp_ck_peer,
#endif
#ifdef HAVE_PEER_TBB
    &mp_tbb_peer,
#endif
#ifdef HAVE_PEER_LFHT
    &mp_lfht_peer,
    &mp_lfht_pre_peer,
#endif
#ifdef HAVE_PEER_GLIB
    &mp_seed64_peer,
    &mp_glib_peer,
#endif
#ifdef HAVE_PEER_ABSL
    &mp_absl1_peer,
#endif
#ifdef HAVE_PEER_GLIB
    &mp_glib1_peer,
#endif
};

const size_t map_peer_count = sizeof map_peers / sizeof map_peers[0];

const char *const map_peers_absent[] = {
#ifndef HAVE_PEER_CUCKOO
    "cuckoo (libcuckoo-dev, C++)",
#endif
#ifndef HAVE_PEER_ABSL
    "absl64, absl-1t (libabsl-dev, C++)",
#endif
#ifndef HAVE_PEER_CK
    "ck (libck-dev)",
#endif
#ifndef HAVE_PEER_TBB
    "tbb (libtbb-dev, C++)",
#endif
#ifndef HAVE_PEER_LFHT
    "lfht, lfht-pre (liburcu-dev)",
#endif
#ifndef HAVE_PEER_GLIB
    "seed64, glib, glib-1t (libglib2.0-dev)",
#endif
    NULL,
};
