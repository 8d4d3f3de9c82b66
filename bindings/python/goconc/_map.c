/* SPDX-License-Identifier: MIT */
/*
 * goconc.Map's native part: goconc_map under a MutableMapping.
 */
#include "_goconc.h"

typedef struct {
    HandleObject hd;
    Py_ssize_t computing;   /* compute() calls inside the library */
} MapObject;

#define MAP(o) ((goconc_map *)((MapObject *)(o))->hd.h)

static void map_release(void *h) { goconc_map_free(h); }

/* A write keeps the GIL unless a compute() on this map is inside the
 * library: its Python function runs holding its key's shard, so a writer
 * of that shard waits for a function that needs the GIL to finish. */
#define MAP_WRITE(self, st, call)                                          \
    do {                                                                   \
        if ((self)->computing) {                                           \
            handle_pin(&(self)->hd);                                       \
            Py_BEGIN_ALLOW_THREADS st = (call);                            \
            Py_END_ALLOW_THREADS handle_unpin(&(self)->hd);                \
        } else {                                                           \
            st = (call);                                                   \
        }                                                                  \
    } while (0)

static int map_init(MapObject *self, PyObject *args, PyObject *kwds)
{
    static char *kw[] = {"shards", "capacity_hint", "seed", NULL};
    PyObject *shards = NULL, *hint = NULL, *seed = NULL;
    unsigned long long v;
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map *m;
    int st;

    if (self->hd.h != NULL || self->hd.closing) {
        PyErr_SetString(PyExc_TypeError, "goconc.Map is already initialized");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OOO", kw, &shards, &hint,
                                     &seed))
        return -1;
    v = 0;
    if (arg_uint(shards, UINT_MAX, "shards", &v) < 0)
        return -1;
    o.shards = (unsigned)v;
    v = 0;
    if (arg_uint(hint, SIZE_MAX, "capacity_hint", &v) < 0)
        return -1;
    o.capacity_hint = (size_t)v;
    v = 0;
    if (arg_uint(seed, UINT64_MAX, "seed", &v) < 0)
        return -1;
    o.seed = v;
    /* Python code never borrows a value (m[key] copies it out), so the
     * map may rewrite a same-length inline value in place. */
    o.flags = GOCONC_MAP_NO_PEEK;
    st = goconc_map_new(&m, &o);
    if (st < 0) {
        raise_status(st);
        return -1;
    }
    self->hd.h = m;
    self->hd.release = map_release;
    self->hd.kind = "Map";
    return 0;
}

static void set_key_error(PyObject *key)
{
    PyObject *t = PyTuple_Pack(1, key);
    if (t != NULL) {
        PyErr_SetObject(PyExc_KeyError, t);
        Py_DECREF(t);
    }
}

enum { COPY_LOAD, COPY_LOAD_OR_STORE, COPY_LOAD_AND_DELETE, COPY_SWAP };

static inline int map_copy_op(MapObject *self, int op, const bytesarg *k,
                              const bytesarg *v, int copied, PyObject **out);

/* m[key]: a copy (map_copy_op).  The map never lends (map_init), so
 * there is no peek to copy from: doc/bindings.md, "Maps without peek
 * (Python)". */
static PyObject *map_lookup(MapObject *self, PyObject *key, int *found)
{
    bytesarg k;
    PyObject *r;
    int st;

    *found = 0;
    if (!handle_open(&self->hd) || bytesarg_get(key, &k, "key") < 0)
        return NULL;
    st = map_copy_op(self, COPY_LOAD, &k, NULL, GOCONC_OK, &r);
    bytesarg_done(&k);
    if (st == GOCONC_OK)
        *found = 1;
    else if (st < 0 && st != INT_MIN)
        raise_status(st);
    return r;
}

static PyObject *map_subscript(MapObject *self, PyObject *key)
{
    int found;
    PyObject *r = map_lookup(self, key, &found);
    if (r == NULL && !found && !PyErr_Occurred()) {
        PyObject *b = as_bytes(key, "key");
        if (b != NULL) {
            set_key_error(b);
            Py_DECREF(b);
        }
    }
    return r;
}

static int map_ass_subscript(MapObject *self, PyObject *key, PyObject *val)
{
    bytesarg k, v;
    int st;

    if (!handle_open(&self->hd) || bytesarg_get(key, &k, "key") < 0)
        return -1;
    if (val == NULL) {
        MAP_WRITE(self, st, goconc_map_delete(MAP(self), k.p, (size_t)k.n));
        bytesarg_done(&k);
        if (st == GOCONC_NOTFOUND) {
            PyObject *b = as_bytes(key, "key");
            if (b != NULL) {
                set_key_error(b);
                Py_DECREF(b);
            }
            return -1;
        }
    } else {
        if (bytesarg_get(val, &v, "value") < 0) {
            bytesarg_done(&k);
            return -1;
        }
        MAP_WRITE(self, st, goconc_map_store(MAP(self), k.p, (size_t)k.n,
                                              v.p, (size_t)v.n));
        bytesarg_done(&v);
        bytesarg_done(&k);
    }
    if (st < 0) {
        raise_status(st);
        return -1;
    }
    return 0;
}

/* `k in m`: a key of the wrong type is simply not there, as in a dict of
 * bytes keys. */
static int map_contains(MapObject *self, PyObject *key)
{
    bytesarg k;
    int st;

    if (!handle_open(&self->hd))
        return -1;
    if (bytesarg_get(key, &k, "key") < 0) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError))
            return -1;
        PyErr_Clear();
        return 0;
    }
    st = goconc_map_load(MAP(self), k.p, (size_t)k.n, NULL, 0, NULL);
    bytesarg_done(&k);
    /* A NULL buffer with cap 0 answers ERANGE for a non-empty value. */
    if (st == GOCONC_OK || st == GOCONC_ERANGE)
        return 1;
    if (st == GOCONC_NOTFOUND)
        return 0;
    raise_status(st);
    return -1;
}

static Py_ssize_t map_length(MapObject *self)
{
    if (!handle_open(&self->hd))
        return -1;
    return (Py_ssize_t)goconc_map_len(MAP(self));
}

static PyObject *map_get(MapObject *self, PyObject *const *args,
                         Py_ssize_t nargs)
{
    PyObject *dflt = nargs > 1 ? args[1] : Py_None, *r;
    int found;

    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
        return NULL;
    }
    r = map_lookup(self, args[0], &found);
    if (r != NULL || found)
        return r;
    if (PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError) || self->hd.h == NULL ||
            self->hd.closing)
            return NULL;
        PyErr_Clear();
    }
    Py_INCREF(dflt);
    return dflt;
}

/* The operations that copy a value out: a short buffer gives ERANGE with
 * the size needed (and changes nothing), so the call is repeated with that
 * much room.  The first try copies into a buffer on the stack; a longer
 * value goes straight into a bytes object of the length the last try
 * reported (again if a write changed the length in between; a shorter
 * value then gets a bytes of its own length).  Values up to the stack
 * buffer are copied twice, longer ones take a second call: 1 KiB
 * measured best for m[key] (doc/bindings.md).  Returns the status; *out
 * is the copy when the status is @copied, else NULL. */
#define COPY_STACK 1024

static Py_ALWAYS_INLINE inline int map_copy_call(goconc_map *m, int op, const bytesarg *k,
                         const bytesarg *v, char *buf, size_t cap, size_t *n)
{
    switch (op) {
    case COPY_LOAD:
        return goconc_map_load(m, k->p, (size_t)k->n, buf, cap, n);
    case COPY_LOAD_OR_STORE:
        return goconc_map_load_or_store(m, k->p, (size_t)k->n, v->p,
                                        (size_t)v->n, buf, cap, n);
    case COPY_LOAD_AND_DELETE:
        return goconc_map_load_and_delete(m, k->p, (size_t)k->n, buf, cap, n);
    default:
        return goconc_map_swap(m, k->p, (size_t)k->n, v->p, (size_t)v->n, buf,
                               cap, n);
    }
}

/* One try.  A load never blocks, so it keeps the GIL; the writes drop it
 * while a compute() runs (MAP_WRITE).  buf is the stack's or a bytes
 * object no other code holds yet, so it may be written without the GIL. */
static Py_ALWAYS_INLINE inline int map_copy_try(MapObject *self, int op, const bytesarg *k,
                        const bytesarg *v, char *buf, size_t cap, size_t *n)
{
    int st;

    *n = 0;
    if (op == COPY_LOAD)
        return map_copy_call(MAP(self), op, k, v, buf, cap, n);
    MAP_WRITE(self, st, map_copy_call(MAP(self), op, k, v, buf, cap, n));
    return st;
}

/* Inlined: m[key] then settles its constant op at compile time (a call
 * here cost a lookup of an 8-byte value 60 instructions, callgrind). */
static Py_ALWAYS_INLINE inline int map_copy_op(MapObject *self, int op, const bytesarg *k,
                                               const bytesarg *v, int copied, PyObject **out)
{
    char stack[COPY_STACK];
    PyObject *b;
    size_t n, cap;
    int st;

    *out = NULL;
    st = map_copy_try(self, op, k, v, stack, sizeof stack, &n);
    if (st == copied)
        return (*out = PyBytes_FromStringAndSize(stack, (Py_ssize_t)n)) ? st : INT_MIN;
    while (st == GOCONC_ERANGE) {
        if (!handle_open(&self->hd))    /* closed while the GIL was out */
            return INT_MIN;
        if ((cap = n) > PY_SSIZE_T_MAX) {
            PyErr_NoMemory();
            return INT_MIN;
        }
        if ((b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap)) == NULL)
            return INT_MIN;
        st = map_copy_try(self, op, k, v, PyBytes_AS_STRING(b), cap, &n);
        if (st == copied && n == cap) {
            *out = b;
            return st;
        }
        if (st == copied)
            *out = PyBytes_FromStringAndSize(PyBytes_AS_STRING(b), (Py_ssize_t)n);
        Py_DECREF(b);
        if (st == copied)
            return *out ? st : INT_MIN;
    }
    return st;
}

/* Shared by load_or_store, swap and load_and_delete. */
static PyObject *map_copy_method(MapObject *self, PyObject *const *args,
                                 Py_ssize_t nargs, int op)
{
    bytesarg k, v = {NULL, 0, {0}, 0};
    PyObject *out, *r;
    int st, want = op == COPY_LOAD_AND_DELETE ? 1 : 2;

    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "expected %d arguments", want);
        return NULL;
    }
    if (!handle_open(&self->hd) || bytesarg_get(args[0], &k, "key") < 0)
        return NULL;
    if (want == 2 && bytesarg_get(args[1], &v, "value") < 0) {
        bytesarg_done(&k);
        return NULL;
    }
    st = map_copy_op(self, op, &k, &v,
                     op == COPY_LOAD_OR_STORE ? GOCONC_EXISTS : GOCONC_OK,
                     &out);
    if (st == INT_MIN)
        goto fail;
    if (st < 0) {
        raise_status(st);
        goto fail;
    }
    switch (op) {
    case COPY_LOAD_OR_STORE:
        if (st == GOCONC_EXISTS)
            r = Py_BuildValue("(NO)", out, Py_True);
        else
            r = Py_BuildValue("(NO)", PyBytes_FromStringAndSize(v.p, v.n),
                              Py_False);
        break;
    default:
        if (st == GOCONC_OK)
            r = Py_BuildValue("(NO)", out, Py_True);
        else
            r = Py_BuildValue("(OO)", Py_None, Py_False);
        break;
    }
    bytesarg_done(&v);
    bytesarg_done(&k);
    return r;
fail:
    bytesarg_done(&v);
    bytesarg_done(&k);
    return NULL;
}

static PyObject *map_load_or_store(MapObject *self, PyObject *const *args,
                                   Py_ssize_t nargs)
{
    return map_copy_method(self, args, nargs, COPY_LOAD_OR_STORE);
}

static PyObject *map_load_and_delete(MapObject *self, PyObject *const *args,
                                     Py_ssize_t nargs)
{
    return map_copy_method(self, args, nargs, COPY_LOAD_AND_DELETE);
}

static PyObject *map_swap(MapObject *self, PyObject *const *args,
                          Py_ssize_t nargs)
{
    return map_copy_method(self, args, nargs, COPY_SWAP);
}

/* compare_and_swap(key, old, new) and compare_and_delete(key, old). */
static PyObject *map_compare(MapObject *self, PyObject *const *args,
                             Py_ssize_t nargs, int del)
{
    bytesarg k, o, n = {NULL, 0, {0}, 0};
    int st, want = del ? 2 : 3;

    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "expected %d arguments", want);
        return NULL;
    }
    if (!handle_open(&self->hd) || bytesarg_get(args[0], &k, "key") < 0)
        return NULL;
    if (bytesarg_get(args[1], &o, "value") < 0) {
        bytesarg_done(&k);
        return NULL;
    }
    if (!del && bytesarg_get(args[2], &n, "value") < 0) {
        bytesarg_done(&o);
        bytesarg_done(&k);
        return NULL;
    }
    if (del)
        MAP_WRITE(self, st, goconc_map_compare_and_delete(
                                MAP(self), k.p, (size_t)k.n, o.p, (size_t)o.n));
    else
        MAP_WRITE(self, st, goconc_map_compare_and_swap(
                                MAP(self), k.p, (size_t)k.n, o.p, (size_t)o.n,
                                n.p, (size_t)n.n));
    bytesarg_done(&n);
    bytesarg_done(&o);
    bytesarg_done(&k);
    if (st < 0)
        return raise_status(st);
    return PyBool_FromLong(st == GOCONC_OK);
}

static PyObject *map_cas(MapObject *self, PyObject *const *args, Py_ssize_t n)
{
    return map_compare(self, args, n, 0);
}

static PyObject *map_cad(MapObject *self, PyObject *const *args, Py_ssize_t n)
{
    return map_compare(self, args, n, 1);
}

/* ---- compute(): goconc_map_update with a Python function.  The GIL is
 * released while the library takes the key's write side and retaken only
 * to run the function. */
struct compute_ctx {
    PyObject *fn;
    PyThreadState *ts;
    PyObject *newval;         /* keeps *newval's bytes alive */
    PyObject *result;
    PyObject *et, *ev, *etb;  /* the function's exception */
};

static int compute_cb(void *ctx, const void *old, size_t oldlen, int found,
                      const void **newval, size_t *newlen)
{
    struct compute_ctx *c = ctx;
    PyObject *oldb, *r = NULL;
    int rc = -1;

    PyEval_RestoreThread(c->ts);
    if (found)
        oldb = PyBytes_FromStringAndSize(old, (Py_ssize_t)oldlen);
    else {
        oldb = Py_None;
        Py_INCREF(oldb);
    }
    if (oldb == NULL)
        goto fail;
    r = PyObject_CallOneArg(c->fn, oldb);
    if (r == NULL)
        goto fail;
    if (r == keep_sentinel) {
        c->result = oldb;
        oldb = NULL;
        rc = GOCONC_UPDATE_KEEP;
    } else if (r == Py_None) {
        c->result = Py_None;
        Py_INCREF(Py_None);
        rc = GOCONC_UPDATE_DELETE;
    } else {
        c->newval = as_bytes(r, "value");
        if (c->newval == NULL)
            goto fail;
        *newval = PyBytes_AS_STRING(c->newval);
        *newlen = (size_t)PyBytes_GET_SIZE(c->newval);
        c->result = c->newval;
        Py_INCREF(c->result);
        rc = GOCONC_UPDATE_STORE;
    }
    goto out;
fail:
    PyErr_Fetch(&c->et, &c->ev, &c->etb);
    if (c->et == NULL) {       /* a failure with no exception set */
        c->et = PyExc_SystemError;
        Py_INCREF(c->et);
    }
out:
    Py_XDECREF(oldb);
    Py_XDECREF(r);
    c->ts = PyEval_SaveThread();
    return rc;
}

static PyObject *map_compute(MapObject *self, PyObject *const *args,
                             Py_ssize_t nargs)
{
    struct compute_ctx c = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    bytesarg k;
    int st;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "compute(key, fn)");
        return NULL;
    }
    if (!handle_open(&self->hd) || bytesarg_get(args[0], &k, "key") < 0)
        return NULL;
    c.fn = args[1];
    self->computing++;
    handle_pin(&self->hd);
    c.ts = PyEval_SaveThread();
    st = goconc_map_update(MAP(self), k.p, (size_t)k.n, compute_cb, &c);
    PyEval_RestoreThread(c.ts);
    self->computing--;
    bytesarg_done(&k);
    Py_XDECREF(c.newval);
    handle_unpin(&self->hd);
    if (c.et != NULL) {
        Py_XDECREF(c.result);
        PyErr_Restore(c.et, c.ev, c.etb);
        return NULL;
    }
    if (st < 0) {
        Py_XDECREF(c.result);
        return raise_status(st);
    }
    if (c.result == NULL)
        Py_RETURN_NONE;
    return c.result;
}

/* ---- range: entries are collected into one C buffer by a visitor that
 * runs no Python code, so a range over a big map runs without the GIL;
 * the Python objects are built afterwards. */
struct collect {
    char *buf;
    size_t len, cap, count, limit;
    int want_values, oom;
};

static int collect_put(struct collect *c, const void *p, size_t n)
{
    if (c->cap - c->len < n) {
        size_t cap = c->cap ? c->cap : 4096;
        char *b;
        while (cap - c->len < n)
            cap *= 2;
        b = realloc(c->buf, cap);
        if (b == NULL)
            return -1;
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return 0;
}

static int collect_visit(void *ctx, const void *key, size_t klen,
                         const void *val, size_t vlen)
{
    struct collect *c = ctx;
    size_t lens[2] = {klen, c->want_values ? vlen : 0};

    if (collect_put(c, lens, sizeof lens) < 0 || collect_put(c, key, klen) < 0 ||
        (c->want_values && collect_put(c, val, vlen) < 0)) {
        c->oom = 1;
        return 1;
    }
    c->count++;
    return c->limit && c->count >= c->limit;
}

static PyObject *collect_build(struct collect *c)
{
    PyObject *list = PyList_New((Py_ssize_t)c->count), *k, *v, *item;
    size_t i, off = 0, lens[2];

    if (list == NULL)
        return NULL;
    for (i = 0; i < c->count; i++) {
        memcpy(lens, c->buf + off, sizeof lens);
        off += sizeof lens;
        k = PyBytes_FromStringAndSize(c->buf + off, (Py_ssize_t)lens[0]);
        off += lens[0];
        if (k == NULL)
            goto fail;
        item = k;
        if (c->want_values) {
            v = PyBytes_FromStringAndSize(c->buf + off, (Py_ssize_t)lens[1]);
            off += lens[1];
            item = v ? PyTuple_Pack(2, k, v) : NULL;
            Py_DECREF(k);
            Py_XDECREF(v);
            if (item == NULL)
                goto fail;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
fail:
    Py_DECREF(list);
    return NULL;
}

/* Maps bigger than this are ranged without the GIL. */
#define RANGE_NOGIL_MIN 4096

static PyObject *map_range(MapObject *self, PyObject *args)
{
    struct collect c = {NULL, 0, 0, 0, 0, 0, 0};
    Py_ssize_t limit = 0;
    PyObject *r = NULL;
    int st;

    if (!PyArg_ParseTuple(args, "p|n", &c.want_values, &limit))
        return NULL;
    if (!handle_open(&self->hd))
        return NULL;
    c.limit = limit > 0 ? (size_t)limit : 0;
    if (goconc_map_len(MAP(self)) >= RANGE_NOGIL_MIN) {
        handle_pin(&self->hd);
        Py_BEGIN_ALLOW_THREADS
        st = goconc_map_range(MAP(self), collect_visit, &c);
        Py_END_ALLOW_THREADS
        handle_unpin(&self->hd);
    } else {
        st = goconc_map_range(MAP(self), collect_visit, &c);
    }
    if (c.oom)
        PyErr_NoMemory();
    else if (st < 0)
        raise_status(st);
    else
        r = collect_build(&c);
    free(c.buf);
    return r;
}

/* clear, reserve and maintain may run long: without the GIL. */
static PyObject *map_clear(MapObject *self, PyObject *unused)
{
    int st;
    (void)unused;
    if (!handle_open(&self->hd))
        return NULL;
    handle_pin(&self->hd);
    Py_BEGIN_ALLOW_THREADS
    st = goconc_map_clear(MAP(self));
    Py_END_ALLOW_THREADS
    handle_unpin(&self->hd);
    if (st < 0)
        return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *map_reserve(MapObject *self, PyObject *arg)
{
    unsigned long long n = 0;
    int st;

    if (arg_uint(arg, SIZE_MAX, "entries", &n) < 0 || !handle_open(&self->hd))
        return NULL;
    handle_pin(&self->hd);
    Py_BEGIN_ALLOW_THREADS
    st = goconc_map_reserve(MAP(self), (size_t)n);
    Py_END_ALLOW_THREADS
    handle_unpin(&self->hd);
    if (st < 0)
        return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *map_maintain(MapObject *self, PyObject *args)
{
    PyObject *arg = NULL;
    unsigned long long n = 1u << 30;
    size_t moved = 0;
    int st;

    if (!PyArg_ParseTuple(args, "|O", &arg) ||
        arg_uint(arg, SIZE_MAX, "max_buckets", &n) < 0 ||
        !handle_open(&self->hd))
        return NULL;
    handle_pin(&self->hd);
    Py_BEGIN_ALLOW_THREADS
    st = goconc_map_maintain(MAP(self), (size_t)n, &moved);
    Py_END_ALLOW_THREADS
    handle_unpin(&self->hd);
    if (st < 0)
        return raise_status(st);
    return PyLong_FromSize_t(moved);
}

static PyObject *map_stats(MapObject *self, PyObject *unused)
{
    goconc_map_stats s = GOCONC_MAP_STATS_INIT;
    int st;

    (void)unused;
    if (!handle_open(&self->hd))
        return NULL;
    st = goconc_map_stats_get(MAP(self), &s);
    if (st < 0)
        return raise_status(st);
    return Py_BuildValue("(nnnnnKKK)", (Py_ssize_t)s.len, (Py_ssize_t)s.shards,
                         (Py_ssize_t)s.buckets, (Py_ssize_t)s.shards_migrating,
                         (Py_ssize_t)s.bytes, (unsigned long long)s.grows,
                         (unsigned long long)s.shrinks,
                         (unsigned long long)s.buckets_moved);
}

static PyMethodDef map_methods[] = {
    HANDLE_METHODS,
    {"get", (PyCFunction)(void (*)(void))map_get, METH_FASTCALL,
     "get(key, default=None): the value, or default when absent (also for "
     "a key that is not bytes-like)."},
    {"load_or_store", (PyCFunction)(void (*)(void))map_load_or_store,
     METH_FASTCALL,
     "Go's LoadOrStore: (existing, True) when key was present (nothing "
     "stored), else (value, False) after storing value."},
    {"load_and_delete", (PyCFunction)(void (*)(void))map_load_and_delete,
     METH_FASTCALL,
     "Go's LoadAndDelete: (value, True) after deleting key, or (None, False)."},
    {"swap", (PyCFunction)(void (*)(void))map_swap, METH_FASTCALL,
     "Go's Swap: store value, return (previous, True) or (None, False)."},
    {"compare_and_swap", (PyCFunction)(void (*)(void))map_cas, METH_FASTCALL,
     "compare_and_swap(key, old, new): store new only if key holds old."},
    {"compare_and_delete", (PyCFunction)(void (*)(void))map_cad, METH_FASTCALL,
     "compare_and_delete(key, old): delete key only if it holds old."},
    {"compute", (PyCFunction)(void (*)(void))map_compute, METH_FASTCALL,
     "compute(key, fn): atomically replace key's value with fn(old)."},
    {"_range", (PyCFunction)map_range, METH_VARARGS,
     "_range(want_values, limit=0): keys or (key, value) pairs, one pass."},
    {"clear", (PyCFunction)map_clear, METH_NOARGS,
     "Delete every entry (atomic per shard)."},
    {"reserve", (PyCFunction)map_reserve, METH_O,
     "Grow ahead of a known load (still incrementally)."},
    {"maintain", (PyCFunction)map_maintain, METH_VARARGS,
     "Advance pending migrations by up to max_buckets; returns how many moved."},
    {"_stats", (PyCFunction)map_stats, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMappingMethods map_as_mapping = {
    (lenfunc)map_length,
    (binaryfunc)map_subscript,
    (objobjargproc)map_ass_subscript,
};

static PySequenceMethods map_as_sequence = {
    .sq_contains = (objobjproc)map_contains,
};

PyTypeObject MapType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goconc._goconc.MapBase",
    .tp_basicsize = sizeof(MapObject),
    .tp_dealloc = (destructor)handle_dealloc,
    .tp_as_mapping = &map_as_mapping,
    .tp_as_sequence = &map_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The native part of goconc.Map.",
    .tp_methods = map_methods,
    .tp_getset = handle_getset,
    .tp_init = (initproc)map_init,
    .tp_new = PyType_GenericNew,
};
