/* SPDX-License-Identifier: MIT */
/*
 * goconc.hpp - the C++17 interface of libgoconc: RAII handles, typed
 * containers and exceptions over the C API of goconc.h.  Header-only;
 * link with libgoconc as a C program does.  doc/cpp.md is the guide.
 *
 * Every member is an inline call of the C function it names, plus the
 * status check; nothing here is virtual, and nothing allocates beyond
 * what the C call does, except where a comment says so.
 *
 * Errors are exceptions: std::bad_alloc (GOCONC_ENOMEM),
 * std::invalid_argument (GOCONC_EINVAL), std::out_of_range (GOCONC_ERANGE
 * on an index or bounds), goconc::error (every other failure, with its
 * status).  A call that throws changed nothing, as its C call did.
 *
 * Callbacks.  No exception ever crosses a C frame of the library: every
 * callback the wrapper hands to C runs in a noexcept trampoline that
 * catches what the user's function throws, tells the library to stop or
 * fail (so it releases its locks, leaves its read section, or leaves the
 * once not done), and the exception is rethrown once the C call has
 * returned.  The object is then usable again, from any thread.
 */
#ifndef GOCONC_HPP
#define GOCONC_HPP

#include "goconc.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#if defined(__has_include)
#if __has_include(<version>)
#include <version>
#endif
#endif
#if defined(__cpp_lib_span)
#include <span>
#endif

namespace goconc {

/* ------------------------------------------------------------- errors */

namespace detail {
class category_impl final : public std::error_category {
public:
    const char *name() const noexcept override { return "goconc"; }
    std::string message(int status) const override { return goconc_strerror(status); }
};
} // namespace detail

/** The error category of libgoconc statuses (messages: goconc_strerror). */
inline const std::error_category &category() noexcept
{
    static const detail::category_impl cat;
    return cat;
}

/** A failure with no standard exception of its own (GOCONC_EDEADLK,
 *  GOCONC_EOVERFLOW, GOCONC_EBUSY): code().value() is the status. */
class error : public std::system_error {
public:
    error(int status, const char *what) : std::system_error(status, category(), what) {}
    /** The GOCONC_* status of the failed call. */
    int status() const noexcept { return code().value(); }
};

namespace detail {

[[noreturn]] inline void throw_status(int status, const char *what)
{
    switch (status) {
    case GOCONC_ENOMEM:
        throw std::bad_alloc();
    case GOCONC_EINVAL:
        throw std::invalid_argument(std::string(what) + ": " + goconc_strerror(status));
    case GOCONC_ERANGE:
        throw std::out_of_range(std::string(what) + ": " + goconc_strerror(status));
    default:
        throw error(status, what);
    }
}

/* Negative statuses are failures; the answers (OK, NOTFOUND, EXISTS,
 * CHANGED, STOPPED) are the caller's to read. */
inline int check(int status, const char *what)
{
    if (status < 0)
        throw_status(status, what);
    return status;
}

/* A map load of a trivially copyable V failed: status < 0, or OK with a
 * value shorter than V. */
[[noreturn]] inline void load_failed(int status)
{
    if (status < 0)
        throw_status(status, "goconc_map_load");
    throw std::out_of_range("goconc::map: stored value has the wrong size for the type");
}

/* What a trampoline returns to an update function's caller when the
 * user's function threw: a negative status no library call returns, so
 * goconc_map_update passes it back unchanged and changes nothing. */
inline constexpr int callback_threw = -0x6001;

/* Keeps what a user callback threw until the C call that ran it returns. */
struct thrown {
    std::exception_ptr ep;
    void catch_current() noexcept { ep = std::current_exception(); }
    void rethrow_if_any()
    {
        if (ep)
            std::rethrow_exception(std::exchange(ep, nullptr));
    }
};

/* How a type travels as map bytes: trivially copyable types as their
 * object representation, std::string as its characters.  arg is what
 * calls take, view what callbacks and peek see. */
template <class T, class = void>
struct codec; // not a supported key or value type

template <class T>
struct codec<T, std::enable_if_t<std::is_trivially_copyable_v<T>>> {
    static_assert(std::is_default_constructible_v<T>,
                  "goconc::map keys and values must be default constructible");
    using arg = const T &;
    using view = T;
    static const void *data(const T &v) noexcept { return &v; }
    static std::size_t size(const T &) noexcept { return sizeof(T); }
    /* Map bytes are not aligned for T: copy them out. */
    static T decode(const void *p, std::size_t n)
    {
        if (n != sizeof(T))
            throw std::out_of_range("goconc::map: stored value has the wrong size for the type");
        T v;
        std::memcpy(static_cast<void *>(&v), p, sizeof(T));
        return v;
    }
    static view view_of(const void *p, std::size_t n) { return decode(p, n); }
};

template <>
struct codec<std::string> {
    using arg = std::string_view;
    using view = std::string_view;
    static const void *data(std::string_view v) noexcept { return v.data(); }
    static std::size_t size(std::string_view v) noexcept { return v.size(); }
    static std::string decode(const void *p, std::size_t n)
    {
        return std::string(static_cast<const char *>(p), n);
    }
    static view view_of(const void *p, std::size_t n) noexcept
    {
        return std::string_view(static_cast<const char *>(p), n);
    }
};

template <class F, class... A>
inline constexpr bool returns_bool_v = std::is_same_v<std::invoke_result_t<F &, A...>, bool>;

} // namespace detail

/* ------------------------------------------------------ read sections */

/**
 * An RCU-style read section for the scope (goconc_read_lock/unlock).
 * Pointers from map::peek and value::load taking this guard stay valid
 * until the thread's outermost guard ends.  Nestable, never blocks; do
 * not block inside one (it holds back reclamation for every thread).
 */
class read_guard {
public:
    read_guard() noexcept { goconc_read_lock(); }
    ~read_guard() { goconc_read_unlock(); }
    read_guard(const read_guard &) = delete;
    read_guard &operator=(const read_guard &) = delete;
    read_guard(read_guard &&) = delete;
    read_guard &operator=(read_guard &&) = delete;
};

/** goconc_synchronize(): wait until every read section open now closed.
 *  goconc::error (GOCONC_EDEADLK) inside a read section or callback. */
inline void synchronize()
{
    detail::check(goconc_synchronize(), "goconc_synchronize");
}

/** goconc_barrier(): wait until every destroy deferred so far has run. */
inline void barrier()
{
    detail::check(goconc_barrier(), "goconc_barrier");
}

/* ---------------------------------------------------------------- map */

/** Returned by a map update function to leave the entry as it is. */
struct keep_t {
    explicit constexpr keep_t() = default;
};
inline constexpr keep_t keep{};
/** Returned by a map update function to delete the entry. */
struct erase_t {
    explicit constexpr erase_t() = default;
};
inline constexpr erase_t erase{};

/**
 * What a map update function decides: goconc::keep, goconc::erase, or a
 * new value (anything V is constructible from).
 */
template <class V>
class update_result {
public:
    update_result(keep_t) noexcept : action_(GOCONC_UPDATE_KEEP) {}
    update_result(erase_t) noexcept : action_(GOCONC_UPDATE_DELETE) {}
    template <class U, class = std::enable_if_t<std::is_constructible_v<V, U &&> &&
                                                !std::is_same_v<std::decay_t<U>, keep_t> &&
                                                !std::is_same_v<std::decay_t<U>, erase_t>>>
    update_result(U &&v) : action_(GOCONC_UPDATE_STORE), value_(std::forward<U>(v))
    {
    }
    /** GOCONC_UPDATE_KEEP, _STORE or _DELETE. */
    int action() const noexcept { return action_; }
    const V &value() const noexcept { return value_; }

private:
    int action_;
    V value_{};
};

/**
 * goconc_map with typed keys and values: K and V are trivially copyable
 * types (stored as their bytes; keys should have no padding) or
 * std::string (taken as std::string_view).  Move-only; a moved-from map
 * is empty of handle and every call on it throws std::invalid_argument.
 * Every member may run on one map from any number of threads at once,
 * except assignment and destruction.
 */
template <class K, class V>
class map {
    using kc = detail::codec<K>;
    using vc = detail::codec<V>;
    static_assert(std::is_same_v<K, std::string> || std::has_unique_object_representations_v<K>,
                  "goconc::map keys are compared as bytes: K must have no padding "
                  "(std::has_unique_object_representations) or be std::string");

public:
    using key_type = K;
    using mapped_type = V;
    using key_arg = typename kc::arg;
    using value_arg = typename vc::arg;
    /** What callbacks and peek see: V (a copy) for trivially copyable V,
     *  std::string_view (borrowed) for std::string. */
    using key_view = typename kc::view;
    using value_view = typename vc::view;
    using result = update_result<V>;

    struct options {
        unsigned shards = 0;           /**< power of two; 0: the default (64) */
        std::size_t capacity_hint = 0; /**< expected entries */
        std::uint64_t seed = 0;        /**< 0: random */
        /**
         * Create the map with GOCONC_MAP_NO_PEEK: it lends no stored
         * bytes, so an overwrite of a value of up to 8 bytes under a key
         * of up to 8 bytes by one of the same size is rewritten in place
         * (doc/map.md, "Maps without peek").  The default for a trivially
         * copyable V, whose load, peek and callbacks see copies anyway;
         * for V = std::string, true makes load copy through a buffer and
         * peek throw std::invalid_argument.
         */
        bool no_peek = !std::is_same_v<V, std::string>;
    };

    map() : map(options{}) {}
    explicit map(const options &o) : lends_(!o.no_peek)
    {
        goconc_map_options c = GOCONC_MAP_OPTIONS_INIT;
        c.shards = o.shards;
        c.capacity_hint = o.capacity_hint;
        c.seed = o.seed;
        c.flags = o.no_peek ? GOCONC_MAP_NO_PEEK : 0u;
        detail::check(goconc_map_new(&m_, &c), "goconc_map_new");
    }
    ~map() { goconc_map_free(m_); }
    map(map &&o) noexcept : m_(std::exchange(o.m_, nullptr)), lends_(o.lends_) {}
    map &operator=(map &&o) noexcept
    {
        if (this != &o) {
            goconc_map_free(m_);
            m_ = std::exchange(o.m_, nullptr);
            lends_ = o.lends_;
        }
        return *this;
    }
    map(const map &) = delete;
    map &operator=(const map &) = delete;
    void swap(map &o) noexcept
    {
        std::swap(m_, o.m_);
        std::swap(lends_, o.lends_);
    }
    friend void swap(map &a, map &b) noexcept { a.swap(b); }

    /** The C map; made with GOCONC_MAP_NO_PEEK when options::no_peek
     *  was set (goconc_map_peek on it returns GOCONC_EINVAL). */
    [[nodiscard]] goconc_map *native_handle() const noexcept { return m_; }

    /** Insert or replace. */
    void store(key_arg k, value_arg v)
    {
        detail::check(goconc_map_store(m_, kc::data(k), kc::size(k), vc::data(v), vc::size(v)),
                      "goconc_map_store");
    }

    /** A copy of k's value, or nullopt. */
    [[nodiscard]] std::optional<V> load(key_arg k) const
    {
        if constexpr (std::is_same_v<V, std::string>) {
            if (!lends_)
                return fetch("goconc_map_load", [&](void *out, std::size_t cap, std::size_t *n) {
                    return goconc_map_load(m_, kc::data(k), kc::size(k), out, cap, n);
                }, GOCONC_OK);
            read_guard g;
            std::optional<std::string_view> p = peek(g, k);
            return p ? std::optional<V>(std::in_place, *p) : std::nullopt;
        } else {
            V out;
            std::size_t n; /* written whenever the status is OK */
            int s = goconc_map_load(m_, kc::data(k), kc::size(k), &out, sizeof out, &n);
            /* The hit first: the rest is out of line (bench_cpp counts
             * the instructions a load adds to the C call). */
            if (s == GOCONC_OK && n == sizeof out)
                return out;
            if (s == GOCONC_NOTFOUND)
                return std::nullopt;
            detail::load_failed(s);
        }
    }

    [[nodiscard]] bool contains(key_arg k) const
    {
        /* No buffer: a present value is GOCONC_ERANGE, or OK when empty. */
        int s = goconc_map_load(m_, kc::data(k), kc::size(k), nullptr, 0, nullptr);
        return s == GOCONC_ERANGE || detail::check(s, "goconc_map_load") == GOCONC_OK;
    }

    /**
     * k's value seen inside the read section of @p g: for std::string a
     * string_view of the stored bytes, valid until the thread's outermost
     * read_guard ends whatever other threads do (std::invalid_argument
     * on a map made with options::no_peek); for a trivially copyable V a
     * copy (the stored bytes are not aligned for V), as load gives.
     */
    [[nodiscard]] std::optional<value_view> peek(const read_guard &g, key_arg k) const
    {
        (void)g;
        if constexpr (std::is_same_v<V, std::string>) {
            const void *p;
            std::size_t n;
            int s = goconc_map_peek(m_, kc::data(k), kc::size(k), &p, &n);
            if (s == GOCONC_NOTFOUND)
                return std::nullopt;
            detail::check(s, "goconc_map_peek");
            return vc::view_of(p, n);
        } else {
            return load(k);
        }
    }

    /** Delete k; true when it was there. */
    bool remove(key_arg k)
    {
        int s = goconc_map_delete(m_, kc::data(k), kc::size(k));
        return detail::check(s, "goconc_map_delete") == GOCONC_OK;
    }

    /** Go's LoadAndDelete: the deleted value, or nullopt. */
    std::optional<V> load_and_delete(key_arg k)
    {
        return fetch("goconc_map_load_and_delete", [&](void *out, std::size_t cap, std::size_t *n) {
            return goconc_map_load_and_delete(m_, kc::data(k), kc::size(k), out, cap, n);
        }, GOCONC_OK);
    }

    /**
     * Go's LoadOrStore: stores v when k is absent.  Returns the value now
     * in the map and true when it was already there (v not stored).
     */
    std::pair<V, bool> load_or_store(key_arg k, value_arg v)
    {
        std::optional<V> old = fetch("goconc_map_load_or_store",
            [&](void *out, std::size_t cap, std::size_t *n) {
                return goconc_map_load_or_store(m_, kc::data(k), kc::size(k), vc::data(v),
                                                vc::size(v), out, cap, n);
            }, GOCONC_EXISTS);
        if (old)
            return {std::move(*old), true};
        return {V(v), false};
    }

    /** Go's Swap: store v, return the value it replaced (nullopt: absent). */
    std::optional<V> swap(key_arg k, value_arg v)
    {
        return fetch("goconc_map_swap", [&](void *out, std::size_t cap, std::size_t *n) {
            return goconc_map_swap(m_, kc::data(k), kc::size(k), vc::data(v), vc::size(v), out,
                                   cap, n);
        }, GOCONC_OK);
    }

    /** Store desired if k's value equals expected byte for byte. */
    bool compare_and_swap(key_arg k, value_arg expected, value_arg desired)
    {
        int s = goconc_map_compare_and_swap(m_, kc::data(k), kc::size(k), vc::data(expected),
                                            vc::size(expected), vc::data(desired),
                                            vc::size(desired));
        return detail::check(s, "goconc_map_compare_and_swap") == GOCONC_OK;
    }

    /** Delete k if its value equals expected byte for byte. */
    bool compare_and_delete(key_arg k, value_arg expected)
    {
        int s = goconc_map_compare_and_delete(m_, kc::data(k), kc::size(k), vc::data(expected),
                                              vc::size(expected));
        return detail::check(s, "goconc_map_compare_and_delete") == GOCONC_OK;
    }

    /**
     * Read-modify-write of k under its shard's lock: fn(std::optional<
     * value_view>) returns goconc::keep, goconc::erase or a new value
     * (declare its return type map::result when it mixes them).  fn may
     * read this map but not write it (goconc::error GOCONC_EDEADLK); if
     * it throws, the map is unchanged, the lock released, and the
     * exception comes out of update.
     */
    template <class F>
    void update(key_arg k, F &&fn)
    {
        update_ctx<std::remove_reference_t<F>> c{&fn, {}, {}};
        int s = goconc_map_update(m_, kc::data(k), kc::size(k),
                                  &update_tramp<std::remove_reference_t<F>>, &c);
        c.err.rethrow_if_any();
        detail::check(s, "goconc_map_update");
    }

    /**
     * Call fn(key_view, value_view) for each entry (goconc_map_range: each
     * key present throughout is seen once; not a snapshot).  fn returns
     * void, or bool with false to stop.  Returns false when fn stopped
     * the walk.  A throw from fn ends the walk and comes out of range.
     */
    template <class F>
    bool range(F &&fn) const
    {
        range_ctx<std::remove_reference_t<F>> c{&fn, {}};
        int s = goconc_map_range(m_, &range_tramp<std::remove_reference_t<F>>, &c);
        c.err.rethrow_if_any();
        return detail::check(s, "goconc_map_range") == GOCONC_OK;
    }

    /** Entries (exact while no write runs). */
    [[nodiscard]] std::size_t size() const noexcept { return goconc_map_len(m_); }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    void clear() { detail::check(goconc_map_clear(m_), "goconc_map_clear"); }
    void reserve(std::size_t entries)
    {
        detail::check(goconc_map_reserve(m_, entries), "goconc_map_reserve");
    }
    /** Do up to max_buckets of pending migration work; returns the work done. */
    std::size_t maintain(std::size_t max_buckets)
    {
        std::size_t moved = 0;
        detail::check(goconc_map_maintain(m_, max_buckets, &moved), "goconc_map_maintain");
        return moved;
    }
    [[nodiscard]] goconc_map_stats stats() const
    {
        goconc_map_stats st = GOCONC_MAP_STATS_INIT;
        detail::check(goconc_map_stats_get(m_, &st), "goconc_map_stats_get");
        return st;
    }

private:
    goconc_map *m_ = nullptr;
    bool lends_ = true; /* created without GOCONC_MAP_NO_PEEK: peek works */

    /*
     * Run a C call that copies a value out (out, cap, *len) and returns
     * `found` when it did: a trivially copyable V goes straight into a
     * V; a string first into its small buffer, then, on GOCONC_ERANGE,
     * into one of the size the call reported (only values too long for
     * the small buffer allocate).  Other answers mean "no value".
     */
    template <class Call>
    static std::optional<V> fetch(const char *what, Call &&call, int found)
    {
        if constexpr (std::is_same_v<V, std::string>) {
            std::string out;
            out.resize(out.capacity());
            for (;;) {
                std::size_t n = 0;
                int s = call(out.data(), out.size(), &n);
                if (s == GOCONC_ERANGE) {
                    out.resize(n);
                    continue;
                }
                if (detail::check(s, what) != found)
                    return std::nullopt;
                out.resize(n);
                return out;
            }
        } else {
            V out;
            std::size_t n = 0;
            int s = call(&out, sizeof out, &n);
            if (detail::check(s, what) != found)
                return std::nullopt;
            if (n != sizeof out)
                throw std::out_of_range("goconc::map: stored value has the wrong size for the type");
            return out;
        }
    }

    template <class F>
    struct update_ctx {
        F *fn;
        detail::thrown err;
        V stored; /* the new value's bytes, alive until update returns */
    };

    template <class F>
    static int update_tramp(void *ctx, const void *old, std::size_t oldlen, int found,
                            const void **newval, std::size_t *newlen) noexcept
    {
        auto *c = static_cast<update_ctx<F> *>(ctx);
        try {
            std::optional<value_view> cur;
            if (found)
                cur.emplace(vc::view_of(old, oldlen));
            result r = (*c->fn)(std::as_const(cur));
            if (r.action() == GOCONC_UPDATE_STORE) {
                c->stored = r.value();
                *newval = vc::data(c->stored);
                *newlen = vc::size(c->stored);
            }
            return r.action();
        } catch (...) {
            c->err.catch_current();
            return detail::callback_threw;
        }
    }

    template <class F>
    struct range_ctx {
        F *fn;
        detail::thrown err;
    };

    template <class F>
    static int range_tramp(void *ctx, const void *k, std::size_t kl, const void *v,
                           std::size_t vl) noexcept
    {
        auto *c = static_cast<range_ctx<F> *>(ctx);
        try {
            if constexpr (detail::returns_bool_v<F, key_view, value_view>) {
                return (*c->fn)(kc::view_of(k, kl), vc::view_of(v, vl)) ? 0 : 1;
            } else {
                (*c->fn)(kc::view_of(k, kl), vc::view_of(v, vl));
                return 0;
            }
        } catch (...) {
            c->err.catch_current();
            return 1;
        }
    }
};

/* -------------------------------------------------------------- value */

/**
 * goconc_value holding a T (Go's atomic.Value over std::unique_ptr): the
 * value owns what it stores and deletes it after a grace period, once no
 * reference holds it (so T's destructor runs on any thread, and must not
 * throw).  Move-only.
 */
template <class T>
class value {
    static_assert(std::is_nothrow_destructible_v<T>, "goconc::value<T>: T's destructor must not throw");

public:
    /**
     * A counted reference to one stored object (goconc_value_ref): valid
     * outside read sections and after the value is gone.  Copies are
     * further counts on the same object (goconc_value_ref_dup: one atomic
     * add, no allocation, never throws), like std::shared_ptr's; moves
     * take the count over.  One ref object is not for concurrent use, as
     * with shared_ptr; distinct copies are, from any threads.
     */
    class ref {
    public:
        ref() noexcept = default;
        explicit ref(goconc_value_ref *r) noexcept : r_(r) {}
        ~ref() { goconc_value_release(r_); }
        ref(const ref &o) noexcept : r_(dup(o.r_)) {}
        ref(ref &&o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
        /* By value: a copy or a move of the source, then swapped in;
         * self-assignment is safe (the copy holds a count first). */
        ref &operator=(ref o) noexcept
        {
            std::swap(r_, o.r_);
            return *this;
        }

        [[nodiscard]] const T *get() const noexcept
        {
            return static_cast<const T *>(goconc_value_ref_get(r_));
        }
        const T &operator*() const noexcept { return *get(); }
        const T *operator->() const noexcept { return get(); }
        explicit operator bool() const noexcept { return r_ != nullptr; }
        /** Drop the reference now. */
        void reset() noexcept { goconc_value_release(std::exchange(r_, nullptr)); }
        /** This reference as a std::shared_ptr (allocates its control
         *  block), for interfaces that take one. */
        [[nodiscard]] std::shared_ptr<const T> share() &&
        {
            const T *obj = get();
            /* Taken first: if the control block cannot be allocated the
             * deleter runs, releasing r, and the exception comes out. */
            goconc_value_ref *r = std::exchange(r_, nullptr);
            return std::shared_ptr<const T>(obj, [r](const T *) { goconc_value_release(r); });
        }

    private:
        goconc_value_ref *r_ = nullptr;

        static goconc_value_ref *dup(goconc_value_ref *r) noexcept
        {
            goconc_value_ref *d = nullptr;
            /* The only failure is a NULL out (GOCONC_EINVAL): not here. */
            int s = goconc_value_ref_dup(&d, r);
            (void)s;
            return d;
        }
    };

    value() { detail::check(goconc_value_new(&v_, &destroy, nullptr), "goconc_value_new"); }
    explicit value(std::unique_ptr<T> obj) : value() { store(std::move(obj)); }
    ~value() { goconc_value_free(v_); }
    value(value &&o) noexcept : v_(std::exchange(o.v_, nullptr)) {}
    value &operator=(value &&o) noexcept
    {
        if (this != &o) {
            goconc_value_free(v_);
            v_ = std::exchange(o.v_, nullptr);
        }
        return *this;
    }
    value(const value &) = delete;
    value &operator=(const value &) = delete;

    [[nodiscard]] goconc_value *native_handle() const noexcept { return v_; }

    /** Replace the current object; obj must not be null
     *  (std::invalid_argument).  On a throw obj keeps the object. */
    void store(std::unique_ptr<T> obj)
    {
        detail::check(goconc_value_store(v_, obj.get()), "goconc_value_store");
        (void)obj.release();
    }
    /** Construct a T in place (one new) and store it. */
    template <class... A>
    void emplace(A &&...args)
    {
        store(std::make_unique<T>(std::forward<A>(args)...));
    }
    /** The current object (nullptr: empty), valid for @p g's section. */
    [[nodiscard]] const T *load(const read_guard &g) const noexcept
    {
        (void)g;
        return static_cast<const T *>(goconc_value_load(v_));
    }
    /** A counted reference to the current object (empty: nothing stored). */
    [[nodiscard]] ref acquire() const noexcept { return ref(goconc_value_acquire(v_)); }
    /** Store obj; returns a reference to the object it replaced. */
    ref swap(std::unique_ptr<T> obj)
    {
        goconc_value_ref *old = nullptr;
        detail::check(goconc_value_swap(v_, obj.get(), &old), "goconc_value_swap");
        (void)obj.release();
        return ref(old);
    }
    /**
     * Store desired if the current object is expected (pointer compare;
     * nullptr: empty).  On success the value owns it and desired is
     * null; otherwise desired keeps it.
     */
    bool compare_and_swap(const T *expected, std::unique_ptr<T> &desired)
    {
        int s = goconc_value_compare_and_swap(v_, expected, desired.get());
        if (detail::check(s, "goconc_value_compare_and_swap") != GOCONC_OK)
            return false;
        (void)desired.release();
        return true;
    }
    void swap(value &o) noexcept { std::swap(v_, o.v_); }
    friend void swap(value &a, value &b) noexcept { a.swap(b); }

private:
    goconc_value *v_ = nullptr;

    static void destroy(void *, void *obj) noexcept { delete static_cast<T *>(obj); }
};

/* --------------------------------------------------------------- once */

/**
 * Go's sync.Once with std::call_once's semantics: call() runs fn once;
 * concurrent callers wait for it; a throw leaves the once not done (a
 * later or waiting call runs its own fn) and comes out of the call that
 * ran fn.  Built on goconc_once_try: no exception crosses the library.
 * Constant-initialised: fine as a static.  Re-entering the same once
 * from its own fn throws goconc::error (GOCONC_EDEADLK).
 */
class once {
public:
    constexpr once() noexcept = default;
    once(const once &) = delete;
    once &operator=(const once &) = delete;

    template <class F, class... A>
    void call(F &&fn, A &&...args)
    {
        if (done())
            return;
        auto bound = [&]() { std::invoke(std::forward<F>(fn), std::forward<A>(args)...); };
        ctx<decltype(bound)> c{&bound, {}};
        int s = goconc_once_try(&o_, &tramp<decltype(bound)>, &c);
        c.err.rethrow_if_any();
        detail::check(s, "goconc_once_try");
    }
    /** fn has returned normally (and its effects are visible). */
    [[nodiscard]] bool done() const noexcept { return goconc_once_done(&o_) != 0; }
    [[nodiscard]] goconc_once *native_handle() noexcept { return &o_; }

private:
    goconc_once o_ = GOCONC_ONCE_INIT;

    template <class B>
    struct ctx {
        B *fn;
        detail::thrown err;
    };
    /* Failure value for goconc_once_try: not a status the library returns. */
    static constexpr int threw = 0x6001;

    template <class B>
    static int tramp(void *p) noexcept
    {
        auto *c = static_cast<ctx<B> *>(p);
        try {
            (*c->fn)();
            return 0;
        } catch (...) {
            c->err.catch_current();
            return threw;
        }
    }
};

/**
 * A lazily built T (a function-local static with an explicit maker): the
 * first get(fn, args...) builds it from fn's result; a throw leaves it
 * unbuilt and the next get tries again.  Not movable.
 */
template <class T>
class once_value {
public:
    once_value() noexcept {}
    ~once_value()
    {
        if (o_.done())
            ptr()->~T();
    }
    once_value(const once_value &) = delete;
    once_value &operator=(const once_value &) = delete;

    template <class F, class... A>
    const T &get(F &&fn, A &&...args)
    {
        o_.call([&]() {
            ::new (static_cast<void *>(buf_)) T(std::invoke(std::forward<F>(fn), std::forward<A>(args)...));
        });
        return *ptr();
    }
    /** The object if built, else nullptr; never blocks. */
    [[nodiscard]] const T *get_if() const noexcept { return o_.done() ? ptr() : nullptr; }

private:
    once o_;
    alignas(T) unsigned char buf_[sizeof(T)];

    T *ptr() noexcept { return std::launder(reinterpret_cast<T *>(buf_)); }
    const T *ptr() const noexcept { return std::launder(reinterpret_cast<const T *>(buf_)); }
};

/* -------------------------------------------------------------- slice */

/**
 * goconc_slice of a trivially copyable T: a Go slice header (storage,
 * offset, len, cap) shared safely between threads.  Move-only; reslice
 * gives another handle on the same storage, as Go's s[a:b] does.
 */
template <class T>
class slice {
    static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>,
                  "goconc::slice<T>: T must be trivially copyable and default constructible");
    static_assert(alignof(T) <= alignof(std::max_align_t), "goconc::slice<T>: over-aligned T");

public:
    /**
     * A snapshot of the elements (goconc_view): stays valid and unchanged
     * while others append or set, until it is destroyed.  Move-only.
     */
    class view {
    public:
        view() noexcept = default;
        ~view() { goconc_view_release(&v_); }
        view(view &&o) noexcept : v_(o.v_) { o.v_ = goconc_view{}; }
        view &operator=(view &&o) noexcept
        {
            if (this != &o) {
                goconc_view_release(&v_);
                v_ = o.v_;
                o.v_ = goconc_view{};
            }
            return *this;
        }
        view(const view &) = delete;
        view &operator=(const view &) = delete;

        using value_type = T;
        using const_iterator = const T *;
        [[nodiscard]] const T *data() const noexcept { return static_cast<const T *>(v_.data); }
        [[nodiscard]] std::size_t size() const noexcept { return v_.len; }
        [[nodiscard]] bool empty() const noexcept { return v_.len == 0; }
        const T *begin() const noexcept { return data(); }
        const T *end() const noexcept { return data() + size(); }
        const T &operator[](std::size_t i) const noexcept { return data()[i]; }
        const T &at(std::size_t i) const
        {
            if (i >= size())
                throw std::out_of_range("goconc::slice::view::at: index out of range");
            return data()[i];
        }
#if defined(__cpp_lib_span)
        [[nodiscard]] std::span<const T> span() const noexcept { return {data(), size()}; }
#endif

    private:
        friend class slice;
        goconc_view v_{};
    };

    /** make([]T, len, cap): len zeroed elements; cap < len: out_of_range. */
    explicit slice(std::size_t len = 0) : slice(len, len) {}
    slice(std::size_t len, std::size_t cap)
    {
        detail::check(goconc_slice_new(&s_, sizeof(T), len, cap), "goconc_slice_new");
    }
    ~slice() { goconc_slice_free(s_); }
    slice(slice &&o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    slice &operator=(slice &&o) noexcept
    {
        if (this != &o) {
            goconc_slice_free(s_);
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    slice(const slice &) = delete;
    slice &operator=(const slice &) = delete;
    void swap(slice &o) noexcept { std::swap(s_, o.s_); }
    friend void swap(slice &a, slice &b) noexcept { a.swap(b); }

    [[nodiscard]] goconc_slice *native_handle() const noexcept { return s_; }

    [[nodiscard]] std::size_t size() const noexcept { return goconc_slice_len(s_); }
    [[nodiscard]] std::size_t capacity() const noexcept { return goconc_slice_cap(s_); }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }

    /** Element i; std::out_of_range for i >= size(). */
    [[nodiscard]] T get(std::size_t i) const
    {
        T out;
        detail::check(goconc_slice_get(s_, i, &out), "goconc_slice_get");
        return out;
    }
    void set(std::size_t i, const T &v) { detail::check(goconc_slice_set(s_, i, &v), "goconc_slice_set"); }
    /** Append one element; returns its index. */
    std::size_t append(const T &v) { return append(&v, 1); }
    /** Append n elements, contiguously; returns the first one's index. */
    std::size_t append(const T *p, std::size_t n)
    {
        std::size_t first = 0;
        detail::check(goconc_slice_append(s_, p, n, &first), "goconc_slice_append");
        return first;
    }
    /** Go's s[low:high] (cap to the end of this handle's capacity). */
    [[nodiscard]] slice reslice(std::size_t low, std::size_t high) const
    {
        return reslice(low, high, capacity());
    }
    /** Go's s[low:high:max]; std::out_of_range unless low <= high <= max <= cap. */
    [[nodiscard]] slice reslice(std::size_t low, std::size_t high, std::size_t max) const
    {
        goconc_slice *out = nullptr;
        detail::check(goconc_slice_reslice(s_, low, high, max, &out), "goconc_slice_reslice");
        return slice(out);
    }
    /** A copy on new storage (slices.Clone). */
    [[nodiscard]] slice clone() const
    {
        goconc_slice *out = nullptr;
        detail::check(goconc_slice_clone(s_, &out), "goconc_slice_clone");
        return slice(out);
    }
    /** Go's copy(*this, src): returns the count copied. */
    std::size_t copy_from(const slice &src)
    {
        std::size_t n = 0;
        detail::check(goconc_slice_copy(s_, src.s_, &n), "goconc_slice_copy");
        return n;
    }
    /** An O(1) snapshot; allocates nothing. */
    [[nodiscard]] view snapshot() const
    {
        view v;
        detail::check(goconc_slice_snapshot(s_, &v.v_), "goconc_slice_snapshot");
        return v;
    }
    /**
     * fn(index, element) over a snapshot, in order; fn returns void, or
     * bool with false to stop.  Returns false when fn stopped.  A throw
     * ends the walk (the snapshot is released) and comes out of range.
     */
    template <class F>
    bool range(F &&fn) const
    {
        range_ctx<std::remove_reference_t<F>> c{&fn, {}};
        int s = goconc_slice_range(s_, &range_tramp<std::remove_reference_t<F>>, &c);
        c.err.rethrow_if_any();
        return detail::check(s, "goconc_slice_range") == GOCONC_OK;
    }

private:
    goconc_slice *s_ = nullptr;

    explicit slice(goconc_slice *s) noexcept : s_(s) {}

    template <class F>
    struct range_ctx {
        F *fn;
        detail::thrown err;
    };

    template <class F>
    static int range_tramp(void *ctx, std::size_t i, const void *elem) noexcept
    {
        auto *c = static_cast<range_ctx<F> *>(ctx);
        try {
            T v;
            std::memcpy(static_cast<void *>(&v), elem, sizeof v);
            if constexpr (detail::returns_bool_v<F, std::size_t, const T &>) {
                return (*c->fn)(i, std::as_const(v)) ? 0 : 1;
            } else {
                (*c->fn)(i, std::as_const(v));
                return 0;
            }
        } catch (...) {
            c->err.catch_current();
            return 1;
        }
    }
};

/* --------------------------------------------------------------- pool */

/**
 * goconc_pool of T objects (Go's sync.Pool).  get() hands out a handle
 * that owns the object and puts it back (after reset) when destroyed.
 * The factory and reset run in C++, on the calling thread, outside any
 * C call: a throw from them comes straight out of get()/put() and leaves
 * the pool as it was.  The pool must outlive its handles.  Move-only.
 * Makes one allocation (the callables) at construction.
 */
template <class T>
class pool {
    static_assert(std::is_nothrow_destructible_v<T>, "goconc::pool<T>: T's destructor must not throw");

    struct state;

public:
    using factory_type = std::function<std::unique_ptr<T>()>;
    using reset_type = std::function<void(T &)>;

    class handle {
    public:
        handle() noexcept = default;
        ~handle() { give_back(); }
        handle(handle &&o) noexcept
            : st_(std::exchange(o.st_, nullptr)), obj_(std::exchange(o.obj_, nullptr))
        {
        }
        handle &operator=(handle &&o) noexcept
        {
            if (this != &o) {
                give_back();
                st_ = std::exchange(o.st_, nullptr);
                obj_ = std::exchange(o.obj_, nullptr);
            }
            return *this;
        }
        handle(const handle &) = delete;
        handle &operator=(const handle &) = delete;

        [[nodiscard]] T *get() const noexcept { return obj_; }
        T &operator*() const noexcept { return *obj_; }
        T *operator->() const noexcept { return obj_; }
        explicit operator bool() const noexcept { return obj_ != nullptr; }
        /** Take the object out of the pool's accounting for good. */
        [[nodiscard]] std::unique_ptr<T> release() noexcept
        {
            st_ = nullptr;
            return std::unique_ptr<T>(std::exchange(obj_, nullptr));
        }

    private:
        friend class pool;
        state *st_ = nullptr;
        T *obj_ = nullptr;

        handle(state *st, T *obj) noexcept : st_(st), obj_(obj) {}
        /* A destructor cannot throw: when reset throws here the object is
         * deleted rather than pooled, and the exception dropped (put()
         * is the throwing way back). */
        void give_back() noexcept
        {
            T *obj = std::exchange(obj_, nullptr);
            if (obj == nullptr)
                return;
            try {
                st_->put(obj);
            } catch (...) {
            }
        }
    };

    /**
     * @param make      builds a new object when the pool has none
     *                  (default: std::make_unique<T>()); nullptr from it
     *                  gives an empty handle.
     * @param reset     runs on each object given back, before caching.
     * @param max_idle  goconc_pool_options.max_idle (0: default).
     */
    explicit pool(factory_type make = {}, reset_type reset = {}, std::size_t max_idle = 0)
        : st_(std::make_unique<state>(std::move(make), std::move(reset)))
    {
        goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
        o.free_obj = &free_obj;
        o.max_idle = max_idle;
        detail::check(goconc_pool_new(&st_->p, &o), "goconc_pool_new");
    }
    ~pool()
    {
        if (st_)
            goconc_pool_free(st_->p);
    }
    pool(pool &&) noexcept = default;
    pool &operator=(pool &&o) noexcept
    {
        if (this != &o) {
            if (st_)
                goconc_pool_free(st_->p);
            st_ = std::move(o.st_);
        }
        return *this;
    }
    pool(const pool &) = delete;
    pool &operator=(const pool &) = delete;

    [[nodiscard]] goconc_pool *native_handle() const noexcept { return st_ ? st_->p : nullptr; }

    /** A cached object, else a new one from the factory (which may throw). */
    [[nodiscard]] handle get()
    {
        void *p = goconc_pool_get(st_->p);
        if (p != nullptr)
            return handle(st_.get(), static_cast<T *>(p));
        std::unique_ptr<T> obj = st_->make ? st_->make() : make_default();
        return obj ? handle(st_.get(), obj.release()) : handle();
    }
    /** Give h's object back now; reset's exception comes out of here
     *  (the object is then deleted, not pooled). */
    void put(handle &&h)
    {
        handle local(std::move(h));
        T *obj = std::exchange(local.obj_, nullptr);
        if (obj != nullptr)
            local.st_->put(obj);
    }
    /** goconc_pool_trim: drop objects idle since the last trim. */
    void trim() noexcept { goconc_pool_trim(st_->p); }
    [[nodiscard]] goconc_pool_stats stats() const
    {
        goconc_pool_stats st = GOCONC_POOL_STATS_INIT;
        detail::check(goconc_pool_stats_get(st_->p, &st), "goconc_pool_stats_get");
        return st;
    }

private:
    struct state {
        goconc_pool *p = nullptr;
        factory_type make;
        reset_type reset;
        state(factory_type m, reset_type r) : make(std::move(m)), reset(std::move(r)) {}
        void put(T *obj)
        {
            if (reset) {
                try {
                    reset(*obj);
                } catch (...) {
                    delete obj;
                    throw;
                }
            }
            goconc_pool_put(p, obj);
        }
    };
    std::unique_ptr<state> st_;

    static std::unique_ptr<T> make_default()
    {
        if constexpr (std::is_default_constructible_v<T>)
            return std::make_unique<T>();
        else
            throw std::invalid_argument("goconc::pool: T is not default constructible: give a factory");
    }
    static void free_obj(void *, void *obj) noexcept { delete static_cast<T *>(obj); }
};

} // namespace goconc

#endif /* GOCONC_HPP */
