// SPDX-License-Identifier: MIT
//! Raw declarations of libgoconc's C ABI (`include/goconc.h`, ABI version 1).
//!
//! Everything here mirrors the public headers one to one: the pinned status
//! codes, the `#[repr(C)]` structs (their sizes are checked against the
//! header by `tests/layout.rs`), the callback types and the exported
//! functions.  All functions are `unsafe`; the safe wrappers are in the
//! `goconc` crate.
//!
//! The headers' `static inline` fast paths (read lock/unlock, the value
//! load, the once done-check) read the thread-local `goconc_tls_reader` and
//! `goconc_gp`; Rust cannot declare that initial-exec TLS variable, so this
//! crate calls the exported functions of the same names, which are always
//! available (the `GOCONC_NO_INLINE` path of the header).
#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_int, c_uint, c_void};

// ---------------------------------------------------------------- statuses

pub const GOCONC_OK: c_int = 0;
pub const GOCONC_NOTFOUND: c_int = 1;
pub const GOCONC_EXISTS: c_int = 2;
pub const GOCONC_CHANGED: c_int = 3;
pub const GOCONC_STOPPED: c_int = 4;
pub const GOCONC_ENOMEM: c_int = -12;
pub const GOCONC_EBUSY: c_int = -16;
pub const GOCONC_EINVAL: c_int = -22;
pub const GOCONC_ERANGE: c_int = -34;
pub const GOCONC_EDEADLK: c_int = -35;
pub const GOCONC_EOVERFLOW: c_int = -75;

pub const GOCONC_UPDATE_KEEP: c_int = 16;
pub const GOCONC_UPDATE_STORE: c_int = 17;
pub const GOCONC_UPDATE_DELETE: c_int = 18;

/// `goconc_map_options.flags`: the map never lends its values
/// (`goconc_map_peek` returns `GOCONC_EINVAL`), so a write that replaces an
/// inline value (key and value of at most 8 bytes each) with one of the same
/// length may rewrite it in place.
pub const GOCONC_MAP_NO_PEEK: c_uint = 1;

pub const GOCONC_VERSION_MAJOR: c_uint = 1;
pub const GOCONC_VERSION_MINOR: c_uint = 1;
pub const GOCONC_VERSION_PATCH: c_uint = 0;
pub const GOCONC_VERSION_NUMBER: c_uint =
    GOCONC_VERSION_MAJOR * 10000 + GOCONC_VERSION_MINOR * 100 + GOCONC_VERSION_PATCH;

/// `GOCONC_ONCE_DONE_`: the value of `opaque[0]` once the function returned.
pub const GOCONC_ONCE_DONE_: u64 = 1;

// ------------------------------------------------------------ opaque types

macro_rules! opaque {
    ($($name:ident),*) => {$(
        /// Opaque handle type: only ever used behind a pointer.
        #[repr(C)]
        pub struct $name {
            _data: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}
opaque!(
    goconc_map,
    goconc_slice,
    goconc_value,
    goconc_value_ref,
    goconc_pool
);

// --------------------------------------------------------------- callbacks

pub type goconc_destroy_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, obj: *mut c_void)>;
pub type goconc_visit_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        key: *const c_void,
        klen: usize,
        val: *const c_void,
        vlen: usize,
    ) -> c_int,
>;
pub type goconc_slice_visit_fn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, i: usize, elem: *const c_void) -> c_int>;
pub type goconc_map_update_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        old: *const c_void,
        oldlen: usize,
        found: c_int,
        newval: *mut *const c_void,
        newlen: *mut usize,
    ) -> c_int,
>;
pub type goconc_map_drop_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        key: *const c_void,
        klen: usize,
        val: *const c_void,
        vlen: usize,
    ),
>;
pub type goconc_once_fn = Option<unsafe extern "C" fn(ctx: *mut c_void)>;
pub type goconc_once_try_fn = Option<unsafe extern "C" fn(ctx: *mut c_void) -> c_int>;

// ----------------------------------------------------------------- structs

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct goconc_allocator {
    pub struct_size: usize,
    pub alloc: Option<unsafe extern "C" fn(ctx: *mut c_void, size: usize) -> *mut c_void>,
    pub free: Option<unsafe extern "C" fn(ctx: *mut c_void, ptr: *mut c_void)>,
    pub ctx: *mut c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct goconc_reclaim_stats {
    pub struct_size: usize,
    pub pending: usize,
    pub threads: usize,
    pub epoch: u64,
    pub reclaimed: u64,
}

/// The layout the inline read-section fast path reads (frozen, ABI).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct goconc_reader {
    pub ctr: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct goconc_gp_state {
    pub ctr: usize,
    pub need_fence: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct goconc_view {
    pub data: *const c_void,
    pub len: usize,
    pub elem_size: usize,
    pub internal: [*mut c_void; 4],
}

impl goconc_view {
    /// An all-zero view (what `goconc_view_release` accepts as "nothing").
    pub const fn zeroed() -> goconc_view {
        goconc_view {
            data: std::ptr::null(),
            len: 0,
            elem_size: 0,
            internal: [std::ptr::null_mut(); 4],
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct goconc_map_options {
    pub struct_size: usize,
    pub shards: c_uint,
    pub capacity_hint: usize,
    pub seed: u64,
    pub on_drop: goconc_map_drop_fn,
    pub ctx: *mut c_void,
    /// `GOCONC_MAP_*` flags (since 1.2; 0 = none).
    pub flags: c_uint,
}

impl goconc_map_options {
    /// `GOCONC_MAP_OPTIONS_INIT`.
    pub const fn init() -> goconc_map_options {
        goconc_map_options {
            struct_size: std::mem::size_of::<goconc_map_options>(),
            shards: 0,
            capacity_hint: 0,
            seed: 0,
            on_drop: None,
            ctx: std::ptr::null_mut(),
            flags: 0,
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct goconc_map_stats {
    pub struct_size: usize,
    pub len: usize,
    pub shards: usize,
    pub buckets: usize,
    pub shards_migrating: usize,
    pub bytes: usize,
    pub grows: u64,
    pub shrinks: u64,
    pub buckets_moved: u64,
}

/// 16 bytes, 8-aligned; all-zero bytes = not done (`GOCONC_ONCE_INIT`).
#[repr(C)]
#[derive(Debug)]
pub struct goconc_once {
    pub opaque: [u64; 2],
}

impl goconc_once {
    /// `GOCONC_ONCE_INIT`.
    pub const INIT: goconc_once = goconc_once { opaque: [0, 0] };
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct goconc_pool_options {
    pub struct_size: usize,
    pub new_obj: Option<unsafe extern "C" fn(ctx: *mut c_void) -> *mut c_void>,
    pub free_obj: Option<unsafe extern "C" fn(ctx: *mut c_void, obj: *mut c_void)>,
    pub reset_obj: Option<unsafe extern "C" fn(ctx: *mut c_void, obj: *mut c_void)>,
    pub ctx: *mut c_void,
    pub max_idle: usize,
}

impl goconc_pool_options {
    /// `GOCONC_POOL_OPTIONS_INIT`.
    pub const fn init() -> goconc_pool_options {
        goconc_pool_options {
            struct_size: std::mem::size_of::<goconc_pool_options>(),
            new_obj: None,
            free_obj: None,
            reset_obj: None,
            ctx: std::ptr::null_mut(),
            max_idle: 0,
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct goconc_pool_stats {
    pub struct_size: usize,
    pub gets: u64,
    pub puts: u64,
    pub hits: u64,
    pub news: u64,
    pub drops: u64,
    pub idle: usize,
}

// --------------------------------------------------------------- functions

extern "C" {
    // common.h
    pub fn goconc_strerror(status: c_int) -> *const c_char;
    pub fn goconc_version_number() -> c_uint;
    pub fn goconc_version_string() -> *const c_char;
    pub fn goconc_set_allocator(a: *const goconc_allocator) -> c_int;
    pub fn goconc_read_lock();
    pub fn goconc_read_unlock();
    pub fn goconc_defer_free(
        obj: *mut c_void,
        destroy: goconc_destroy_fn,
        ctx: *mut c_void,
    ) -> c_int;
    pub fn goconc_synchronize() -> c_int;
    pub fn goconc_barrier() -> c_int;
    pub fn goconc_reclaim_stats_get(st: *mut goconc_reclaim_stats) -> c_int;

    // slice.h
    pub fn goconc_slice_new(
        out: *mut *mut goconc_slice,
        elem_size: usize,
        len: usize,
        cap: usize,
    ) -> c_int;
    pub fn goconc_slice_free(s: *mut goconc_slice);
    pub fn goconc_slice_len(s: *const goconc_slice) -> usize;
    pub fn goconc_slice_cap(s: *const goconc_slice) -> usize;
    pub fn goconc_slice_elem_size(s: *const goconc_slice) -> usize;
    pub fn goconc_slice_get(s: *const goconc_slice, i: usize, out: *mut c_void) -> c_int;
    pub fn goconc_slice_set(s: *mut goconc_slice, i: usize, elem: *const c_void) -> c_int;
    pub fn goconc_slice_append(
        s: *mut goconc_slice,
        elems: *const c_void,
        n: usize,
        first_index: *mut usize,
    ) -> c_int;
    pub fn goconc_slice_reslice(
        s: *const goconc_slice,
        low: usize,
        high: usize,
        max: usize,
        out: *mut *mut goconc_slice,
    ) -> c_int;
    pub fn goconc_slice_copy(
        dst: *mut goconc_slice,
        src: *const goconc_slice,
        copied: *mut usize,
    ) -> c_int;
    pub fn goconc_slice_clone(s: *const goconc_slice, out: *mut *mut goconc_slice) -> c_int;
    pub fn goconc_slice_snapshot(s: *const goconc_slice, view: *mut goconc_view) -> c_int;
    pub fn goconc_view_release(view: *mut goconc_view);
    pub fn goconc_slice_range(
        s: *const goconc_slice,
        f: goconc_slice_visit_fn,
        ctx: *mut c_void,
    ) -> c_int;

    // map.h
    pub fn goconc_map_new(out: *mut *mut goconc_map, opts: *const goconc_map_options) -> c_int;
    pub fn goconc_map_free(m: *mut goconc_map);
    pub fn goconc_map_load(
        m: *const goconc_map,
        key: *const c_void,
        klen: usize,
        val: *mut c_void,
        cap: usize,
        vlen: *mut usize,
    ) -> c_int;
    pub fn goconc_map_peek(
        m: *const goconc_map,
        key: *const c_void,
        klen: usize,
        val: *mut *const c_void,
        vlen: *mut usize,
    ) -> c_int;
    pub fn goconc_map_store(
        m: *mut goconc_map,
        key: *const c_void,
        klen: usize,
        val: *const c_void,
        vlen: usize,
    ) -> c_int;
    pub fn goconc_map_load_or_store(
        m: *mut goconc_map,
        key: *const c_void,
        klen: usize,
        val: *const c_void,
        vlen: usize,
        out: *mut c_void,
        cap: usize,
        outlen: *mut usize,
    ) -> c_int;
    pub fn goconc_map_load_and_delete(
        m: *mut goconc_map,
        key: *const c_void,
        klen: usize,
        out: *mut c_void,
        cap: usize,
        outlen: *mut usize,
    ) -> c_int;
    pub fn goconc_map_delete(m: *mut goconc_map, key: *const c_void, klen: usize) -> c_int;
    pub fn goconc_map_swap(
        m: *mut goconc_map,
        key: *const c_void,
        klen: usize,
        val: *const c_void,
        vlen: usize,
        prev: *mut c_void,
        cap: usize,
        prevlen: *mut usize,
    ) -> c_int;
    pub fn goconc_map_compare_and_swap(
        m: *mut goconc_map,
        key: *const c_void,
        klen: usize,
        old: *const c_void,
        oldlen: usize,
        val: *const c_void,
        vlen: usize,
    ) -> c_int;
    pub fn goconc_map_compare_and_delete(
        m: *mut goconc_map,
        key: *const c_void,
        klen: usize,
        old: *const c_void,
        oldlen: usize,
    ) -> c_int;
    pub fn goconc_map_update(
        m: *mut goconc_map,
        key: *const c_void,
        klen: usize,
        f: goconc_map_update_fn,
        ctx: *mut c_void,
    ) -> c_int;
    pub fn goconc_map_range(m: *mut goconc_map, f: goconc_visit_fn, ctx: *mut c_void) -> c_int;
    pub fn goconc_map_scan(
        m: *mut goconc_map,
        cursor: *mut u64,
        max_entries: usize,
        f: goconc_visit_fn,
        ctx: *mut c_void,
    ) -> c_int;
    pub fn goconc_map_reserve(m: *mut goconc_map, entries: usize) -> c_int;
    pub fn goconc_map_maintain(m: *mut goconc_map, max_buckets: usize, moved: *mut usize) -> c_int;
    pub fn goconc_map_len(m: *const goconc_map) -> usize;
    pub fn goconc_map_clear(m: *mut goconc_map) -> c_int;
    pub fn goconc_map_stats_get(m: *const goconc_map, st: *mut goconc_map_stats) -> c_int;

    // value.h
    pub fn goconc_value_new(
        out: *mut *mut goconc_value,
        destroy: goconc_destroy_fn,
        ctx: *mut c_void,
    ) -> c_int;
    pub fn goconc_value_free(v: *mut goconc_value);
    pub fn goconc_value_load(v: *const goconc_value) -> *mut c_void;
    pub fn goconc_value_store(v: *mut goconc_value, obj: *mut c_void) -> c_int;
    pub fn goconc_value_swap(
        v: *mut goconc_value,
        obj: *mut c_void,
        old: *mut *mut goconc_value_ref,
    ) -> c_int;
    pub fn goconc_value_compare_and_swap(
        v: *mut goconc_value,
        old: *const c_void,
        obj: *mut c_void,
    ) -> c_int;
    pub fn goconc_value_acquire(v: *mut goconc_value) -> *mut goconc_value_ref;
    pub fn goconc_value_ref_get(r: *const goconc_value_ref) -> *mut c_void;
    pub fn goconc_value_release(r: *mut goconc_value_ref);

    // once.h
    pub fn goconc_once_do(o: *mut goconc_once, f: goconc_once_fn, ctx: *mut c_void) -> c_int;
    pub fn goconc_once_try(o: *mut goconc_once, f: goconc_once_try_fn, ctx: *mut c_void) -> c_int;
    pub fn goconc_once_done(o: *const goconc_once) -> c_int;

    // pool.h
    pub fn goconc_pool_new(out: *mut *mut goconc_pool, opts: *const goconc_pool_options) -> c_int;
    pub fn goconc_pool_free(p: *mut goconc_pool);
    pub fn goconc_pool_get(p: *mut goconc_pool) -> *mut c_void;
    pub fn goconc_pool_put(p: *mut goconc_pool, obj: *mut c_void);
    pub fn goconc_pool_trim(p: *mut goconc_pool);
    pub fn goconc_pool_stats_get(p: *mut goconc_pool, st: *mut goconc_pool_stats) -> c_int;
}
