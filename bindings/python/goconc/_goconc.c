/*
 * goconc._goconc - the native core of the Python bindings, written against
 * libgoconc's public C API (include/goconc.h) and linked with
 * libgoconc.so.1.
 *
 * Each Python class (goconc.Map, Slice, View, Value, Once, Pool) derives
 * from a type defined here that implements its hot paths; the Python
 * subclasses in the package add the rest of the protocol.
 *
 * The GIL.  It is kept across every short call (a load, a store, an
 * append, a pool get): releasing and retaking it would cost more than the
 * call.  It is released around calls that can block or run long - a map
 * clear/reserve/maintain, a range over a big map, a wait on a Once that
 * runs, synchronize and barrier - and around map writes while a compute()
 * on the same map runs, because that compute's Python function holds the
 * key's write side: a writer of that key blocks in the library, and must
 * not do so holding the GIL the function needs to finish.
 *
 * Python objects the library owns (a Value's objects, a Pool's cached
 * ones) are dropped by destroy callbacks that may run on any thread, at
 * thread exit, or after the interpreter is gone.  Those callbacks never run
 * Python code nor take the GIL: they put the object on the "grave", a
 * mutex-protected array, and threads holding the GIL empty it (grave_drain)
 * at their next call into the bindings.  So no thread exit handler of the
 * library calls into Python, and a thread killed by interpreter
 * finalization is never inside the library holding a pin.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <goconc.h>

/* ------------------------------------------------------------ module state */

static PyObject *error_classes;   /* {status: GoconcError subclass} */
static PyObject *error_base;      /* GoconcError */
static PyObject *keep_sentinel;   /* goconc.KEEP */
static PyObject *struct_error;    /* struct.error */
static PyObject *element_type_error;
static PyObject *zero;            /* the int 0 */
static PyObject *str_pack, *str_unpack, *str_getslice;

/* ------------------------------------------------------------------ grave */

static pthread_mutex_t grave_mu = PTHREAD_MUTEX_INITIALIZER;
static PyObject **grave;
static size_t grave_len, grave_cap;
static int grave_nonempty;        /* atomic; lets drain skip the mutex */

/* Any thread, GIL or not, even after finalization: park @o for a later
 * Py_DECREF.  Should the array fail to grow, the object leaks: dropping it
 * here would need the GIL this thread may not be able to take. */
static void grave_push(PyObject *o)
{
    pthread_mutex_lock(&grave_mu);
    if (grave_len == grave_cap) {
        size_t cap = grave_cap ? grave_cap * 2 : 64;
        PyObject **g = realloc(grave, cap * sizeof *g);
        if (g == NULL) {
            pthread_mutex_unlock(&grave_mu);
            return;
        }
        grave = g;
        grave_cap = cap;
    }
    grave[grave_len++] = o;
    __atomic_store_n(&grave_nonempty, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&grave_mu);
}

/* With the GIL: drop every parked object.  The array is taken out first:
 * a Py_DECREF may run a finalizer that re-enters this function. */
static void grave_drain(void)
{
    PyObject **g;
    size_t n, i;

    if (!__atomic_load_n(&grave_nonempty, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&grave_mu);
    g = grave;
    n = grave_len;
    grave = NULL;
    grave_len = grave_cap = 0;
    __atomic_store_n(&grave_nonempty, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&grave_mu);
    for (i = 0; i < n; i++)
        Py_DECREF(g[i]);
    free(g);
}

static size_t grave_count(void)
{
    size_t n;
    pthread_mutex_lock(&grave_mu);
    n = grave_len;
    pthread_mutex_unlock(&grave_mu);
    return n;
}

/* The destroy callback of values and the free_obj of pools. */
static void drop_later(void *ctx, void *obj)
{
    (void)ctx;
    grave_push((PyObject *)obj);
}

/* ------------------------------------------------------------ statuses */

/* Raise the GoconcError subclass for a failing status; returns NULL. */
static PyObject *raise_status(int st)
{
    PyObject *cls = NULL, *key, *exc;

    key = PyLong_FromLong(st);
    if (key == NULL)
        return NULL;
    if (error_classes != NULL)
        cls = PyDict_GetItemWithError(error_classes, key);
    Py_DECREF(key);
    if (cls == NULL && PyErr_Occurred())
        return NULL;
    if (cls == NULL)
        cls = error_base;
    if (cls == NULL) {
        PyErr_Format(PyExc_RuntimeError, "goconc: %s", goconc_strerror(st));
        return NULL;
    }
    exc = PyObject_CallFunction(cls, "i", st);
    if (exc != NULL) {
        PyErr_SetObject(cls, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* ------------------------------------------------------------ handles */

/*
 * The C object behind a Python one.  close() frees it at once unless calls
 * that released the GIL or run Python code are still inside (active); the
 * last of those frees it when it returns.  Short calls keep the GIL, so
 * no close() can run in their middle.
 */
typedef struct {
    PyObject_HEAD
    void *h;
    void (*release)(void *h);
    const char *kind;
    Py_ssize_t active;
    int closing;
} HandleObject;

static int handle_open(HandleObject *o)
{
    if (o->h == NULL || o->closing) {
        PyErr_Format(PyExc_ValueError, "operation on a closed goconc.%s",
                     o->kind ? o->kind : "object");
        return 0;
    }
    return 1;
}

static void handle_free_now(HandleObject *o)
{
    void *h = o->h;
    o->h = NULL;
    if (h != NULL)
        o->release(h);
}

static void handle_pin(HandleObject *o) { o->active++; }

static void handle_unpin(HandleObject *o)
{
    if (--o->active == 0 && o->closing)
        handle_free_now(o);
}

static PyObject *handle_close(HandleObject *o, PyObject *unused)
{
    (void)unused;
    o->closing = 1;
    if (o->active == 0)
        handle_free_now(o);
    grave_drain();
    Py_RETURN_NONE;
}

static PyObject *handle_enter(HandleObject *o, PyObject *unused)
{
    (void)unused;
    Py_INCREF(o);
    return (PyObject *)o;
}

static PyObject *handle_exit(HandleObject *o, PyObject *args)
{
    PyObject *r = handle_close(o, NULL);
    (void)args;
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *handle_closed(HandleObject *o, void *unused)
{
    (void)unused;
    return PyBool_FromLong(o->closing || o->h == NULL);
}

/* An active call keeps a reference, so a dealloc never races one. */
static void handle_dealloc(HandleObject *o)
{
    handle_free_now(o);
    Py_TYPE(o)->tp_free((PyObject *)o);
    grave_drain();
}

#define HANDLE_METHODS                                                     \
    {"close", (PyCFunction)handle_close, METH_NOARGS,                      \
     "Free the C object now (idempotent); calls still running on other "   \
     "threads finish first, later calls raise ValueError."},               \
    {"__enter__", (PyCFunction)handle_enter, METH_NOARGS, NULL},           \
    {"__exit__", (PyCFunction)handle_exit, METH_VARARGS, NULL}

static PyGetSetDef handle_getset[] = {
    {"closed", (getter)handle_closed, NULL, "True after close().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* Integer arguments: an index-able int in [0, max]; ValueError below 0,
 * OverflowError above max, where C would silently wrap. */
static int arg_uint(PyObject *o, unsigned long long max, const char *name,
                    unsigned long long *out)
{
    PyObject *i;
    int neg;

    if (o == NULL || o == Py_None)
        return 0;
    i = PyNumber_Index(o);
    if (i == NULL)
        return -1;
    neg = PyObject_RichCompareBool(i, zero, Py_LT);
    if (neg != 0) {
        if (neg > 0)
            PyErr_Format(PyExc_ValueError, "%s must be >= 0", name);
        Py_DECREF(i);
        return -1;
    }
    *out = PyLong_AsUnsignedLongLong(i);
    Py_DECREF(i);
    if (*out == (unsigned long long)-1 && PyErr_Occurred())
        goto overflow;
    if (*out > max)
        goto overflow;
    return 0;
overflow:
    PyErr_Clear();
    PyErr_Format(PyExc_OverflowError, "%s is too large (at most %llu)", name,
                 max);
    return -1;
}

/* ------------------------------------------------------- bytes arguments */

typedef struct {
    const char *p;
    Py_ssize_t n;
    Py_buffer view;
    int has_view;
} bytesarg;

static int bytesarg_get(PyObject *o, bytesarg *b, const char *what)
{
    b->has_view = 0;
    if (PyBytes_CheckExact(o)) {
        b->p = PyBytes_AS_STRING(o);
        b->n = PyBytes_GET_SIZE(o);
        return 0;
    }
    if (PyObject_CheckBuffer(o) && !PyUnicode_Check(o)) {
        if (PyObject_GetBuffer(o, &b->view, PyBUF_SIMPLE) < 0)
            return -1;
        b->p = b->view.buf;
        b->n = b->view.len;
        b->has_view = 1;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "goconc: %s must be bytes-like, not %.100s",
                 what, Py_TYPE(o)->tp_name);
    return -1;
}

static void bytesarg_done(bytesarg *b)
{
    if (b->has_view)
        PyBuffer_Release(&b->view);
}

/* o as a new bytes object (bytes itself: a new reference). */
static PyObject *as_bytes(PyObject *o, const char *what)
{
    bytesarg b;
    PyObject *r;

    if (PyBytes_CheckExact(o)) {
        Py_INCREF(o);
        return o;
    }
    if (bytesarg_get(o, &b, what) < 0)
        return NULL;
    r = PyBytes_FromStringAndSize(b.p, b.n);
    bytesarg_done(&b);
    return r;
}

/* ===================================================================== Map */

typedef struct {
    HandleObject hd;
    Py_ssize_t computing;   /* compute() calls inside the library */
} MapObject;

#define MAP(o) ((goconc_map *)((MapObject *)(o))->hd.h)

static void map_release(void *h) { goconc_map_free(h); }

/* A write: keeps the GIL unless a compute() holds a key of this map. */
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

/* m[key]: a peek inside a read section, copied into a new bytes object
 * (allocating bytes never runs the garbage collector, so no finalizer
 * runs inside the section). */
static PyObject *map_lookup(MapObject *self, PyObject *key, int *found)
{
    bytesarg k;
    const void *v;
    size_t vl;
    PyObject *r = NULL;
    int st;

    *found = 0;
    if (!handle_open(&self->hd) || bytesarg_get(key, &k, "key") < 0)
        return NULL;
    goconc_read_lock();
    st = goconc_map_peek(MAP(self), k.p, (size_t)k.n, &v, &vl);
    if (st == GOCONC_OK)
        r = PyBytes_FromStringAndSize(v, (Py_ssize_t)vl);
    goconc_read_unlock();
    bytesarg_done(&k);
    if (st == GOCONC_OK)
        *found = 1;
    else if (st < 0)
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
 * much room.  Returns the status; *out is the copy when the status is
 * @copied. */
enum { COPY_LOAD_OR_STORE, COPY_LOAD_AND_DELETE, COPY_SWAP };

static int map_copy_call(goconc_map *m, int op, const bytesarg *k,
                         const bytesarg *v, char *buf, size_t cap, size_t *n)
{
    switch (op) {
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

static int map_copy_op(MapObject *self, int op, const bytesarg *k,
                       const bytesarg *v, int copied, PyObject **out)
{
    char stack[256], *buf = stack;
    size_t cap = sizeof stack, n;
    int st;

    *out = NULL;
    for (;;) {
        n = 0;
        MAP_WRITE(self, st, map_copy_call(MAP(self), op, k, v, buf, cap, &n));
        if (st != GOCONC_ERANGE || self->hd.h == NULL)
            break;
        if (buf != stack)
            PyMem_Free(buf);
        cap = n ? n : 1;
        buf = PyMem_Malloc(cap);
        if (buf == NULL) {
            PyErr_NoMemory();
            return INT_MIN;
        }
    }
    if (st == copied && (*out = PyBytes_FromStringAndSize(buf, (Py_ssize_t)n)) == NULL)
        st = INT_MIN;
    if (buf != stack)
        PyMem_Free(buf);
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

static PyTypeObject MapType = {
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

/* ======================================================= Slice elements */

/*
 * An element format: code is one of the native single-field struct
 * formats packed here directly, or 0, in which case fmt's pack(x) and
 * unpack(bytes) methods (a Python object) do it.
 */
typedef struct {
    PyObject *fmt;
    size_t esize;
    char code;
} elemfmt;

static size_t code_size(char code)
{
    switch (code) {
    case 'b': case 'B': return 1;
    case 'h': case 'H': return sizeof(short);
    case 'i': case 'I': return sizeof(int);
    case 'l': case 'L': return sizeof(long);
    case 'q': case 'Q': return sizeof(long long);
    case 'n': case 'N': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    default: return 0;
    }
}

static int elem_type_error(PyObject *x, const char *want)
{
    if (PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
        PyErr_Format(element_type_error,
                     "goconc: element must be %s, not %.100s", want,
                     Py_TYPE(x)->tp_name);
    }
    return -1;
}

static int elem_range_error(void)
{
    PyErr_Clear();
    PyErr_SetString(struct_error, "argument out of range");
    return -1;
}

static int pack_signed(PyObject *x, char *out, size_t size)
{
    long long v = PyLong_AsLongLong(x);
    long long lim;

    if (v == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError))
            return elem_range_error();
        return elem_type_error(x, "an integer");
    }
    if (size < sizeof v) {
        lim = 1LL << (size * 8 - 1);
        if (v < -lim || v >= lim)
            return elem_range_error();
    }
    switch (size) {
    case 1: { int8_t t = (int8_t)v; memcpy(out, &t, 1); break; }
    case 2: { int16_t t = (int16_t)v; memcpy(out, &t, 2); break; }
    case 4: { int32_t t = (int32_t)v; memcpy(out, &t, 4); break; }
    default: memcpy(out, &v, 8); break;
    }
    return 0;
}

static int pack_unsigned(PyObject *x, char *out, size_t size)
{
    PyObject *i = PyNumber_Index(x);
    unsigned long long v;

    if (i == NULL)
        return elem_type_error(x, "an integer");
    v = PyLong_AsUnsignedLongLong(i);
    Py_DECREF(i);
    if (v == (unsigned long long)-1 && PyErr_Occurred())
        return elem_range_error();
    if (size < sizeof v && v >> (size * 8))
        return elem_range_error();
    switch (size) {
    case 1: { uint8_t t = (uint8_t)v; memcpy(out, &t, 1); break; }
    case 2: { uint16_t t = (uint16_t)v; memcpy(out, &t, 2); break; }
    case 4: { uint32_t t = (uint32_t)v; memcpy(out, &t, 4); break; }
    default: memcpy(out, &v, 8); break;
    }
    return 0;
}

static int elem_pack(const elemfmt *f, PyObject *x, char *out)
{
    PyObject *b;
    double d;

    switch (f->code) {
    case 'b': case 'h': case 'i': case 'l': case 'q': case 'n':
        return pack_signed(x, out, f->esize);
    case 'B': case 'H': case 'I': case 'L': case 'Q': case 'N':
        return pack_unsigned(x, out, f->esize);
    case 'd':
    case 'f':
        d = PyFloat_AsDouble(x);
        if (d == -1.0 && PyErr_Occurred())
            return elem_type_error(x, "a real number");
        if (f->code == 'd') {
            memcpy(out, &d, sizeof d);
        } else {
            float t = (float)d;
            if (isinf(t) && !isinf(d)) {
                PyErr_SetString(PyExc_OverflowError,
                                "float too large to pack with f format");
                return -1;
            }
            memcpy(out, &t, sizeof t);
        }
        return 0;
    default:
        b = PyObject_CallMethodOneArg(f->fmt, str_pack, x);
        if (b == NULL)
            return -1;
        if (!PyBytes_Check(b) || (size_t)PyBytes_GET_SIZE(b) != f->esize) {
            Py_DECREF(b);
            PyErr_SetString(PyExc_SystemError, "goconc: pack gave a wrong size");
            return -1;
        }
        memcpy(out, PyBytes_AS_STRING(b), f->esize);
        Py_DECREF(b);
        return 0;
    }
}

static PyObject *elem_unpack(const elemfmt *f, const char *p)
{
    PyObject *b, *r;

    switch (f->code) {
    case 'b': return PyLong_FromLong(*(const int8_t *)p);
    case 'B': return PyLong_FromLong(*(const uint8_t *)p);
    case 'h': { int16_t t; memcpy(&t, p, 2); return PyLong_FromLong(t); }
    case 'H': { uint16_t t; memcpy(&t, p, 2); return PyLong_FromLong(t); }
    case 'f': { float t; memcpy(&t, p, sizeof t); return PyFloat_FromDouble(t); }
    case 'd': { double t; memcpy(&t, p, sizeof t); return PyFloat_FromDouble(t); }
    case 'i': case 'l': case 'q': case 'n':
        if (f->esize == 4) {
            int32_t t;
            memcpy(&t, p, 4);
            return PyLong_FromLong(t);
        } else {
            long long t;
            memcpy(&t, p, 8);
            return PyLong_FromLongLong(t);
        }
    case 'I': case 'L': case 'Q': case 'N':
        if (f->esize == 4) {
            uint32_t t;
            memcpy(&t, p, 4);
            return PyLong_FromUnsignedLong(t);
        } else {
            unsigned long long t;
            memcpy(&t, p, 8);
            return PyLong_FromUnsignedLongLong(t);
        }
    default:
        b = PyBytes_FromStringAndSize(p, (Py_ssize_t)f->esize);
        if (b == NULL)
            return NULL;
        r = PyObject_CallMethodOneArg(f->fmt, str_unpack, b);
        Py_DECREF(b);
        return r;
    }
}

/* fmt: the Python _Format object; code: a one-character str or "". */
static int elemfmt_init(elemfmt *f, PyObject *fmt, const char *code,
                        Py_ssize_t esize)
{
    if (esize <= 0) {
        raise_status(GOCONC_EINVAL);
        return -1;
    }
    f->code = code[0] && !code[1] ? code[0] : 0;
    if (f->code && code_size(f->code) != (size_t)esize) {
        PyErr_Format(PyExc_ValueError, "goconc: format %s is not native", code);
        return -1;
    }
    Py_INCREF(fmt);
    Py_XSETREF(f->fmt, fmt);
    f->esize = (size_t)esize;
    return 0;
}

/* A small element buffer on the stack, a big one on the heap. */
#define ELEM_STACK 64
static char *elem_buf(const elemfmt *f, char *stack)
{
    char *p;
    if (f->esize <= ELEM_STACK)
        return stack;
    p = PyMem_Malloc(f->esize);
    if (p == NULL)
        PyErr_NoMemory();
    return p;
}

static void elem_buf_done(char *p, char *stack)
{
    if (p != stack)
        PyMem_Free(p);
}

/* =================================================================== Slice */

typedef struct {
    HandleObject hd;
    elemfmt f;
} SliceObject;

#define SLICE(o) ((goconc_slice *)((SliceObject *)(o))->hd.h)

static void slice_release(void *h) { goconc_slice_free(h); }

static PyTypeObject SliceType;

static void slice_adopt(SliceObject *self, goconc_slice *s)
{
    self->hd.h = s;
    self->hd.release = slice_release;
    self->hd.kind = "Slice";
}

/* _init(fmt, code, itemsize, length, capacity) */
static PyObject *slice_cinit(SliceObject *self, PyObject *args)
{
    PyObject *fmt, *lo, *co;
    const char *code;
    Py_ssize_t esize;
    unsigned long long len = 0, cap = 0;
    goconc_slice *s;
    int st;

    if (self->hd.h != NULL || self->hd.closing) {
        PyErr_SetString(PyExc_TypeError, "goconc.Slice is already initialized");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OsnOO", &fmt, &code, &esize, &lo, &co) ||
        arg_uint(lo, SIZE_MAX, "length", &len) < 0 ||
        arg_uint(co, SIZE_MAX, "capacity", &cap) < 0 ||
        elemfmt_init(&self->f, fmt, code, esize) < 0)
        return NULL;
    if (cap < len)
        cap = len;
    st = goconc_slice_new(&s, (size_t)esize, (size_t)len, (size_t)cap);
    if (st < 0)
        return raise_status(st);
    slice_adopt(self, s);
    Py_RETURN_NONE;
}

/* A new object of self's type around @s (which it owns from now on). */
static PyObject *slice_wrap(SliceObject *self, goconc_slice *s)
{
    PyTypeObject *t = Py_TYPE(self);
    SliceObject *o = (SliceObject *)t->tp_alloc(t, 0);

    if (o == NULL) {
        goconc_slice_free(s);
        return NULL;
    }
    o->f = self->f;
    Py_INCREF(o->f.fmt);
    slice_adopt(o, s);
    return (PyObject *)o;
}

static void slice_dealloc(SliceObject *self)
{
    Py_CLEAR(self->f.fmt);
    handle_dealloc(&self->hd);
}

static Py_ssize_t slice_length(SliceObject *self)
{
    if (!handle_open(&self->hd))
        return -1;
    return (Py_ssize_t)goconc_slice_len(SLICE(self));
}

static PyObject *slice_cap(SliceObject *self, PyObject *unused)
{
    (void)unused;
    if (!handle_open(&self->hd))
        return NULL;
    return PyLong_FromSize_t(goconc_slice_cap(SLICE(self)));
}

/* i as an index into a sequence of @len elements; -1 with IndexError. */
static Py_ssize_t norm_index(PyObject *i, Py_ssize_t len, const char *what)
{
    Py_ssize_t k = PyNumber_AsSsize_t(i, PyExc_IndexError);
    if (k == -1 && PyErr_Occurred())
        return -1;
    if (k < 0)
        k += len;
    if (k < 0 || k >= len) {
        PyErr_Format(PyExc_IndexError, "goconc.%s index out of range", what);
        return -1;
    }
    return k;
}

static PyObject *slice_subscript(SliceObject *self, PyObject *i)
{
    char stack[ELEM_STACK], *buf;
    Py_ssize_t k;
    PyObject *r = NULL;
    int st;

    if (PySlice_Check(i))
        return PyObject_CallMethodOneArg((PyObject *)self, str_getslice, i);
    if (!PyIndex_Check(i)) {
        PyErr_Format(PyExc_TypeError,
                     "goconc.Slice indices must be integers or slices, not %.100s",
                     Py_TYPE(i)->tp_name);
        return NULL;
    }
    if (!handle_open(&self->hd))
        return NULL;
    k = norm_index(i, (Py_ssize_t)goconc_slice_len(SLICE(self)), "Slice");
    if (k < 0 || (buf = elem_buf(&self->f, stack)) == NULL)
        return NULL;
    /* The length may have changed since: the library checks again. */
    st = goconc_slice_get(SLICE(self), (size_t)k, buf);
    if (st == GOCONC_ERANGE)
        PyErr_SetString(PyExc_IndexError, "goconc.Slice index out of range");
    else if (st < 0)
        raise_status(st);
    else
        r = elem_unpack(&self->f, buf);
    elem_buf_done(buf, stack);
    return r;
}

static int slice_ass_subscript(SliceObject *self, PyObject *i, PyObject *x)
{
    char stack[ELEM_STACK], *buf;
    Py_ssize_t k;
    int st;

    if (x == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "goconc.Slice does not support item deletion");
        return -1;
    }
    if (PySlice_Check(i)) {
        PyErr_SetString(PyExc_TypeError,
                        "goconc.Slice does not support slice assignment");
        return -1;
    }
    if (!PyIndex_Check(i)) {
        PyErr_Format(PyExc_TypeError,
                     "goconc.Slice indices must be integers, not %.100s",
                     Py_TYPE(i)->tp_name);
        return -1;
    }
    if (!handle_open(&self->hd) || (buf = elem_buf(&self->f, stack)) == NULL)
        return -1;
    /* Packing may run Python code (which may close the slice): first. */
    if (elem_pack(&self->f, x, buf) < 0 || !handle_open(&self->hd)) {
        elem_buf_done(buf, stack);
        return -1;
    }
    k = norm_index(i, (Py_ssize_t)goconc_slice_len(SLICE(self)), "Slice");
    if (k < 0) {
        elem_buf_done(buf, stack);
        return -1;
    }
    st = goconc_slice_set(SLICE(self), (size_t)k, buf);
    elem_buf_done(buf, stack);
    if (st == GOCONC_ERANGE) {
        PyErr_SetString(PyExc_IndexError,
                        "goconc.Slice assignment index out of range");
        return -1;
    }
    if (st < 0) {
        raise_status(st);
        return -1;
    }
    return 0;
}

static PyObject *slice_append(SliceObject *self, PyObject *x)
{
    char stack[ELEM_STACK], *buf;
    size_t first;
    int st;

    if (!handle_open(&self->hd) || (buf = elem_buf(&self->f, stack)) == NULL)
        return NULL;
    if (elem_pack(&self->f, x, buf) < 0 || !handle_open(&self->hd)) {
        elem_buf_done(buf, stack);
        return NULL;
    }
    st = goconc_slice_append(SLICE(self), buf, 1, &first);
    elem_buf_done(buf, stack);
    if (st < 0)
        return raise_status(st);
    return PyLong_FromSize_t(first);
}

/* _append_bytes(data): one atomic append of len(data)/itemsize elements;
 * returns the first index (the length when data is empty). */
static PyObject *slice_append_bytes(SliceObject *self, PyObject *data)
{
    bytesarg b;
    size_t first;
    int st;

    if (!handle_open(&self->hd) || bytesarg_get(data, &b, "data") < 0)
        return NULL;
    if ((size_t)b.n % self->f.esize) {
        bytesarg_done(&b);
        PyErr_SetString(PyExc_ValueError, "goconc: partial element");
        return NULL;
    }
    if (b.n == 0) {
        bytesarg_done(&b);
        return PyLong_FromSize_t(goconc_slice_len(SLICE(self)));
    }
    st = goconc_slice_append(SLICE(self), b.p, (size_t)b.n / self->f.esize,
                             &first);
    bytesarg_done(&b);
    if (st < 0)
        return raise_status(st);
    return PyLong_FromSize_t(first);
}

static PyObject *slice_reslice(SliceObject *self, PyObject *args)
{
    Py_ssize_t low, high, max = -2;
    goconc_slice *out;
    int st;

    if (!PyArg_ParseTuple(args, "nn|n", &low, &high, &max) ||
        !handle_open(&self->hd))
        return NULL;
    if (max == -2)
        max = (Py_ssize_t)goconc_slice_cap(SLICE(self));
    if (low < 0 || high < 0 || max < 0) {
        PyErr_SetString(PyExc_IndexError, "goconc.Slice bounds out of range");
        return NULL;
    }
    st = goconc_slice_reslice(SLICE(self), (size_t)low, (size_t)high,
                              (size_t)max, &out);
    if (st == GOCONC_ERANGE) {
        PyErr_SetString(PyExc_IndexError, "goconc.Slice bounds out of range");
        return NULL;
    }
    if (st < 0)
        return raise_status(st);
    return slice_wrap(self, out);
}

static PyObject *slice_clone(SliceObject *self, PyObject *unused)
{
    goconc_slice *out;
    int st;

    (void)unused;
    if (!handle_open(&self->hd))
        return NULL;
    st = goconc_slice_clone(SLICE(self), &out);
    if (st < 0)
        return raise_status(st);
    return slice_wrap(self, out);
}

static PyObject *slice_copy_from(SliceObject *self, PyObject *src)
{
    size_t copied = 0;
    int st;

    if (!PyObject_TypeCheck(src, &SliceType)) {
        PyErr_SetString(PyExc_TypeError, "copy_from() needs a goconc.Slice");
        return NULL;
    }
    if (!handle_open(&self->hd) || !handle_open(&((SliceObject *)src)->hd))
        return NULL;
    st = goconc_slice_copy(SLICE(self), SLICE(src), &copied);
    if (st < 0)
        return raise_status(st);
    return PyLong_FromSize_t(copied);
}

static PyObject *slice_fmt(SliceObject *self, void *unused)
{
    (void)unused;
    if (self->f.fmt == NULL)
        Py_RETURN_NONE;
    Py_INCREF(self->f.fmt);
    return self->f.fmt;
}

static PyGetSetDef slice_getset[] = {
    {"closed", (getter)handle_closed, NULL, "True after close().", NULL},
    {"_fmt", (getter)slice_fmt, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef slice_methods[] = {
    HANDLE_METHODS,
    {"_init", (PyCFunction)slice_cinit, METH_VARARGS, NULL},
    {"cap", (PyCFunction)slice_cap, METH_NOARGS, "Go's cap(s)."},
    {"append", (PyCFunction)slice_append, METH_O,
     "Append one element; returns its index."},
    {"_append_bytes", (PyCFunction)slice_append_bytes, METH_O, NULL},
    {"reslice", (PyCFunction)slice_reslice, METH_VARARGS,
     "reslice(low, high, max=cap): Go's s[low:high:max] as a new Slice "
     "sharing this storage."},
    {"clone", (PyCFunction)slice_clone, METH_NOARGS,
     "A new Slice with its own storage, the same elements, cap == len."},
    {"copy_from", (PyCFunction)slice_copy_from, METH_O,
     "Go's copy(self, src): min(len) elements; returns the count."},
    {NULL, NULL, 0, NULL},
};

static PyMappingMethods slice_as_mapping = {
    (lenfunc)slice_length,
    (binaryfunc)slice_subscript,
    (objobjargproc)slice_ass_subscript,
};

static PySequenceMethods slice_as_sequence = {
    .sq_length = (lenfunc)slice_length,
};

static PyTypeObject SliceType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goconc._goconc.SliceBase",
    .tp_basicsize = sizeof(SliceObject),
    .tp_dealloc = (destructor)slice_dealloc,
    .tp_as_mapping = &slice_as_mapping,
    .tp_as_sequence = &slice_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The native part of goconc.Slice.",
    .tp_methods = slice_methods,
    .tp_getset = slice_getset,
    .tp_new = PyType_GenericNew,
};

/* ==================================================================== View */

typedef struct {
    HandleObject hd;
    elemfmt f;
    goconc_view v;
    Py_ssize_t len;
} ViewObject;

static void view_release(void *h) { goconc_view_release(h); }

static int view_init(ViewObject *self, PyObject *args, PyObject *kwds)
{
    SliceObject *s;
    int st;

    if (self->hd.h != NULL || self->hd.closing) {
        PyErr_SetString(PyExc_TypeError, "goconc.View is already initialized");
        return -1;
    }
    if (kwds != NULL && PyDict_GET_SIZE(kwds)) {
        PyErr_SetString(PyExc_TypeError, "View(slice) takes no keywords");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "O!", &SliceType, &s) || !handle_open(&s->hd))
        return -1;
    st = goconc_slice_snapshot(SLICE(s), &self->v);
    if (st < 0) {
        raise_status(st);
        return -1;
    }
    self->f = s->f;
    Py_INCREF(self->f.fmt);
    self->len = (Py_ssize_t)self->v.len;
    self->hd.h = &self->v;
    self->hd.release = view_release;
    self->hd.kind = "View";
    return 0;
}

static void view_dealloc(ViewObject *self)
{
    Py_CLEAR(self->f.fmt);
    handle_dealloc(&self->hd);
}

static Py_ssize_t view_length(ViewObject *self)
{
    if (!handle_open(&self->hd))
        return -1;
    return self->len;
}

static PyObject *view_subscript(ViewObject *self, PyObject *i)
{
    Py_ssize_t k;

    if (PySlice_Check(i))
        return PyObject_CallMethodOneArg((PyObject *)self, str_getslice, i);
    if (!handle_open(&self->hd))
        return NULL;
    if (!PyIndex_Check(i)) {
        PyErr_Format(PyExc_TypeError,
                     "goconc.View indices must be integers or slices, not %.100s",
                     Py_TYPE(i)->tp_name);
        return NULL;
    }
    k = norm_index(i, self->len, "View");
    if (k < 0)
        return NULL;
    return elem_unpack(&self->f, (const char *)self->v.data + (size_t)k * self->f.esize);
}

/* _bytes(start, stop): the raw bytes of elements [start, stop). */
static PyObject *view_bytes(ViewObject *self, PyObject *args)
{
    Py_ssize_t a = 0, b = -1;

    if (!PyArg_ParseTuple(args, "|nn", &a, &b) || !handle_open(&self->hd))
        return NULL;
    if (b < 0 || b > self->len)
        b = self->len;
    if (a < 0)
        a = 0;
    if (a > b)
        a = b;
    return PyBytes_FromStringAndSize(
        (const char *)self->v.data + (size_t)a * self->f.esize,
        (Py_ssize_t)((size_t)(b - a) * self->f.esize));
}

static PyObject *view_fmt(ViewObject *self, void *unused)
{
    (void)unused;
    if (self->f.fmt == NULL)
        Py_RETURN_NONE;
    Py_INCREF(self->f.fmt);
    return self->f.fmt;
}

static PyGetSetDef view_getset[] = {
    {"closed", (getter)handle_closed, NULL, "True after close().", NULL},
    {"_fmt", (getter)view_fmt, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef view_methods[] = {
    HANDLE_METHODS,
    {"_bytes", (PyCFunction)view_bytes, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMappingMethods view_as_mapping = {
    (lenfunc)view_length,
    (binaryfunc)view_subscript,
    NULL,
};

static PySequenceMethods view_as_sequence = {
    .sq_length = (lenfunc)view_length,
};

static PyTypeObject ViewType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goconc._goconc.ViewBase",
    .tp_basicsize = sizeof(ViewObject),
    .tp_dealloc = (destructor)view_dealloc,
    .tp_as_mapping = &view_as_mapping,
    .tp_as_sequence = &view_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The native part of goconc.View.",
    .tp_methods = view_methods,
    .tp_getset = view_getset,
    .tp_init = (initproc)view_init,
    .tp_new = PyType_GenericNew,
};

/* =================================================================== Value */

/*
 * The library stores PyObject pointers, each holding one reference, which
 * the destroy callback hands to the grave once no reader can see it.  A
 * load takes its own reference inside a read section, before the stored
 * one can go.
 */
typedef struct {
    HandleObject hd;
} ValueObject;

#define VALUE(o) ((goconc_value *)((ValueObject *)(o))->hd.h)

static void value_release(void *h) { goconc_value_free(h); }

static int value_init(ValueObject *self, PyObject *args, PyObject *kwds)
{
    goconc_value *v;
    int st;

    if (self->hd.h != NULL || self->hd.closing) {
        PyErr_SetString(PyExc_TypeError, "goconc.Value is already initialized");
        return -1;
    }
    if (PyTuple_GET_SIZE(args) || (kwds && PyDict_GET_SIZE(kwds))) {
        PyErr_SetString(PyExc_TypeError, "ValueBase() takes no arguments");
        return -1;
    }
    st = goconc_value_new(&v, drop_later, NULL);
    if (st < 0) {
        raise_status(st);
        return -1;
    }
    self->hd.h = v;
    self->hd.release = value_release;
    self->hd.kind = "Value";
    return 0;
}

/* A new reference to the current object, NULL (no error) when empty. */
static PyObject *value_current(ValueObject *self)
{
    PyObject *o;

    goconc_read_lock();
    o = goconc_value_load(VALUE(self));
    Py_XINCREF(o);
    goconc_read_unlock();
    return o;
}

static PyObject *value_load(ValueObject *self, PyObject *unused)
{
    PyObject *o;

    (void)unused;
    if (!handle_open(&self->hd))
        return NULL;
    o = value_current(self);
    if (o == NULL)
        Py_RETURN_NONE;
    return o;
}

static int value_check_obj(PyObject *o)
{
    if (o == Py_None) {
        PyErr_SetString(PyExc_ValueError, "goconc.Value cannot store None");
        return -1;
    }
    return 0;
}

static PyObject *value_store(ValueObject *self, PyObject *o)
{
    int st;

    if (value_check_obj(o) < 0 || !handle_open(&self->hd))
        return NULL;
    Py_INCREF(o);
    st = goconc_value_store(VALUE(self), o);
    if (st < 0) {
        Py_DECREF(o);
        return raise_status(st);
    }
    grave_drain();
    Py_RETURN_NONE;
}

static PyObject *value_swap(ValueObject *self, PyObject *o)
{
    goconc_value_ref *ref = NULL;
    PyObject *old;
    int st;

    if (value_check_obj(o) < 0 || !handle_open(&self->hd))
        return NULL;
    Py_INCREF(o);
    st = goconc_value_swap(VALUE(self), o, &ref);
    if (st < 0) {
        Py_DECREF(o);
        return raise_status(st);
    }
    old = ref ? goconc_value_ref_get(ref) : NULL;
    Py_XINCREF(old);
    goconc_value_release(ref);
    grave_drain();
    if (old == NULL)
        Py_RETURN_NONE;
    return old;
}

/*
 * Go's CompareAndSwap by equality: the current object is compared (==,
 * which may run Python code, so outside any read section) and swapped by
 * pointer.  The reference held on it meanwhile keeps its address from
 * being reused (no ABA).  CHANGED means a store came in between: compare
 * again.
 */
static PyObject *value_compare_and_swap(ValueObject *self, PyObject *const *args,
                                        Py_ssize_t nargs)
{
    PyObject *old, *new, *cur;
    int eq, st;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "compare_and_swap(old, new)");
        return NULL;
    }
    old = args[0];
    new = args[1];
    if (value_check_obj(new) < 0)
        return NULL;
    for (;;) {
        if (!handle_open(&self->hd))
            return NULL;
        cur = value_current(self);
        if (cur == NULL || old == Py_None)
            eq = (cur == NULL) == (old == Py_None);
        else if (cur == old)
            eq = 1;
        else
            eq = PyObject_RichCompareBool(cur, old, Py_EQ);
        if (eq <= 0) {
            Py_XDECREF(cur);
            if (eq < 0)
                return NULL;
            Py_RETURN_FALSE;
        }
        if (!handle_open(&self->hd)) {   /* == may have closed it */
            Py_XDECREF(cur);
            return NULL;
        }
        Py_INCREF(new);
        st = goconc_value_compare_and_swap(VALUE(self), cur, new);
        Py_XDECREF(cur);
        if (st != GOCONC_OK)
            Py_DECREF(new);
        if (st == GOCONC_OK) {
            grave_drain();
            Py_RETURN_TRUE;
        }
        if (st != GOCONC_CHANGED)
            return raise_status(st);
    }
}

/* The cyclic GC sees the current object (a Value holding a dict that
 * holds the Value is collectable); clearing closes the handle, whose
 * object then goes the way of every replaced one.  Both run with the GIL,
 * which every store holds, so the object visited is the one owned. */
static int value_traverse(ValueObject *self, visitproc visit, void *arg)
{
    PyObject *o;
    int r = 0;

    if (self->hd.h == NULL)
        return 0;
    goconc_read_lock();
    o = goconc_value_load(VALUE(self));
    if (o != NULL)
        r = visit(o, arg);
    goconc_read_unlock();
    return r;
}

static int value_clear(ValueObject *self)
{
    self->hd.closing = 1;
    handle_free_now(&self->hd);
    return 0;
}

static void value_dealloc(ValueObject *self)
{
    PyObject_GC_UnTrack(self);
    handle_dealloc(&self->hd);
}

static PyMethodDef value_methods[] = {
    HANDLE_METHODS,
    {"load", (PyCFunction)value_load, METH_NOARGS,
     "The stored object, or None while nothing was stored; never blocks."},
    {"store", (PyCFunction)value_store, METH_O,
     "Store obj (ValueError for None, as Go panics on storing nil)."},
    {"swap", (PyCFunction)value_swap, METH_O,
     "Store obj and return the object it replaced (None if empty)."},
    {"compare_and_swap", (PyCFunction)(void (*)(void))value_compare_and_swap,
     METH_FASTCALL,
     "Store new if the current object equals old (None: only if empty); "
     "True when stored."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ValueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goconc._goconc.ValueBase",
    .tp_basicsize = sizeof(ValueObject),
    .tp_dealloc = (destructor)value_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The native part of goconc.Value.",
    .tp_traverse = (traverseproc)value_traverse,
    .tp_clear = (inquiry)value_clear,
    .tp_methods = value_methods,
    .tp_getset = handle_getset,
    .tp_init = (initproc)value_init,
    .tp_new = PyType_GenericNew,
};

/* ==================================================================== Once */

typedef struct {
    PyObject_HEAD
    goconc_once o;
} OnceObject;

struct once_ctx {
    PyObject *fn;
    PyThreadState *ts;
    PyObject *et, *ev, *etb;
};

static int once_cb(void *ctx)
{
    struct once_ctx *c = ctx;
    PyObject *r;

    PyEval_RestoreThread(c->ts);
    r = PyObject_CallNoArgs(c->fn);
    if (r == NULL)
        PyErr_Fetch(&c->et, &c->ev, &c->etb);
    Py_XDECREF(r);
    c->ts = PyEval_SaveThread();
    return r == NULL ? -1 : 0;
}

/* do(fn): done already costs one acquire load; otherwise the GIL is
 * released while this thread runs fn's turn or waits for another's. */
static PyObject *once_do(OnceObject *self, PyObject *fn)
{
    struct once_ctx c = {fn, NULL, NULL, NULL, NULL};
    int st;

    if (goconc_once_done(&self->o))
        Py_RETURN_NONE;
    Py_INCREF(self);
    c.ts = PyEval_SaveThread();
    st = goconc_once_try(&self->o, once_cb, &c);
    PyEval_RestoreThread(c.ts);
    Py_DECREF(self);
    if (c.et != NULL) {
        PyErr_Restore(c.et, c.ev, c.etb);
        return NULL;
    }
    if (st < 0)
        return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *once_done(OnceObject *self, void *unused)
{
    (void)unused;
    return PyBool_FromLong(goconc_once_done(&self->o));
}

static PyMethodDef once_methods[] = {
    {"do", (PyCFunction)once_do, METH_O,
     "Call fn() unless an earlier do() completed; see goconc.Once."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef once_getset[] = {
    {"done", (getter)once_done, NULL, "True once a do() has completed.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject OnceType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goconc._goconc.OnceBase",
    .tp_basicsize = sizeof(OnceObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The native part of goconc.Once.",
    .tp_methods = once_methods,
    .tp_getset = once_getset,
    .tp_new = PyType_GenericNew,
};

/* ==================================================================== Pool */

/*
 * The pool caches PyObject pointers, each holding one reference.  The
 * library calls no Python code: new() is called here when the pool has
 * nothing (so it never runs inside the library, holding a pin), reset()
 * before the put, and dropped objects go to the grave.
 */
typedef struct {
    HandleObject hd;
    PyObject *new_fn, *reset_fn;
    uint64_t news;
} PoolObject;

#define POOL(o) ((goconc_pool *)((PoolObject *)(o))->hd.h)

static void pool_release(void *h) { goconc_pool_free(h); }

static int pool_init(PoolObject *self, PyObject *args, PyObject *kwds)
{
    static char *kw[] = {"new", "reset", "max_idle", NULL};
    PyObject *new_fn = Py_None, *reset_fn = Py_None, *mi = NULL;
    unsigned long long max_idle = 0;
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    goconc_pool *p;
    int st;

    if (self->hd.h != NULL || self->hd.closing) {
        PyErr_SetString(PyExc_TypeError, "goconc.Pool is already initialized");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O$OO", kw, &new_fn,
                                     &reset_fn, &mi) ||
        arg_uint(mi, SIZE_MAX, "max_idle", &max_idle) < 0)
        return -1;
    if ((new_fn != Py_None && !PyCallable_Check(new_fn)) ||
        (reset_fn != Py_None && !PyCallable_Check(reset_fn))) {
        PyErr_SetString(PyExc_TypeError, "new and reset must be callables");
        return -1;
    }
    o.free_obj = drop_later;
    o.max_idle = (size_t)max_idle;
    st = goconc_pool_new(&p, &o);
    if (st < 0) {
        raise_status(st);
        return -1;
    }
    if (new_fn != Py_None) {
        Py_INCREF(new_fn);
        self->new_fn = new_fn;
    }
    if (reset_fn != Py_None) {
        Py_INCREF(reset_fn);
        self->reset_fn = reset_fn;
    }
    self->hd.h = p;
    self->hd.release = pool_release;
    self->hd.kind = "Pool";
    return 0;
}

static int pool_traverse(PoolObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->new_fn);
    Py_VISIT(self->reset_fn);
    return 0;
}

static int pool_clear(PoolObject *self)
{
    Py_CLEAR(self->new_fn);
    Py_CLEAR(self->reset_fn);
    return 0;
}

static void pool_dealloc(PoolObject *self)
{
    PyObject_GC_UnTrack(self);
    pool_clear(self);
    handle_dealloc(&self->hd);
}

static PyObject *pool_get(PoolObject *self, PyObject *unused)
{
    PyObject *o;

    (void)unused;
    if (!handle_open(&self->hd))
        return NULL;
    o = goconc_pool_get(POOL(self));
    grave_drain();
    if (o != NULL)
        return o;           /* the reference the pool held */
    if (self->new_fn == NULL)
        Py_RETURN_NONE;
    o = PyObject_CallNoArgs(self->new_fn);
    if (o != NULL)
        self->news++;
    return o;
}

static PyObject *pool_put(PoolObject *self, PyObject *o)
{
    if (o == Py_None)
        Py_RETURN_NONE;
    if (!handle_open(&self->hd))
        return NULL;
    if (self->reset_fn != NULL) {
        PyObject *r = PyObject_CallOneArg(self->reset_fn, o);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
        if (!handle_open(&self->hd))
            return NULL;
    }
    Py_INCREF(o);
    goconc_pool_put(POOL(self), o);
    grave_drain();
    Py_RETURN_NONE;
}

static PyObject *pool_trim(PoolObject *self, PyObject *unused)
{
    (void)unused;
    if (!handle_open(&self->hd))
        return NULL;
    goconc_pool_trim(POOL(self));
    grave_drain();
    Py_RETURN_NONE;
}

static PyObject *pool_stats(PoolObject *self, PyObject *unused)
{
    goconc_pool_stats s = GOCONC_POOL_STATS_INIT;
    int st;

    (void)unused;
    if (!handle_open(&self->hd))
        return NULL;
    st = goconc_pool_stats_get(POOL(self), &s);
    if (st < 0)
        return raise_status(st);
    /* news: the library never calls new itself, the bindings count. */
    return Py_BuildValue("(KKKKKn)", (unsigned long long)s.gets,
                         (unsigned long long)s.puts, (unsigned long long)s.hits,
                         (unsigned long long)self->news,
                         (unsigned long long)s.drops, (Py_ssize_t)s.idle);
}

static PyMethodDef pool_methods[] = {
    HANDLE_METHODS,
    {"get", (PyCFunction)pool_get, METH_NOARGS,
     "A cached object if this thread can take one without waiting, else "
     "new(), else None."},
    {"put", (PyCFunction)pool_put, METH_O,
     "Give obj back to the pool (reset(obj) first; None is ignored)."},
    {"trim", (PyCFunction)pool_trim, METH_NOARGS,
     "Go's GC step: drop the objects idle since the previous trim."},
    {"_stats", (PyCFunction)pool_stats, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PoolType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goconc._goconc.PoolBase",
    .tp_basicsize = sizeof(PoolObject),
    .tp_dealloc = (destructor)pool_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The native part of goconc.Pool.",
    .tp_traverse = (traverseproc)pool_traverse,
    .tp_clear = (inquiry)pool_clear,
    .tp_methods = pool_methods,
    .tp_getset = handle_getset,
    .tp_init = (initproc)pool_init,
    .tp_new = PyType_GenericNew,
};

/* ================================================================= module */

static PyObject *mod_strerror(PyObject *m, PyObject *arg)
{
    long v = PyLong_AsLong(arg);
    int st;
    (void)m;
    if ((v == -1 && PyErr_Occurred()) || v < INT_MIN || v > INT_MAX) {
        PyErr_Clear();
        v = INT_MIN;    /* any unknown status */
    }
    st = (int)v;
    return PyUnicode_DecodeUTF8(goconc_strerror(st),
                                (Py_ssize_t)strlen(goconc_strerror(st)),
                                "replace");
}

static PyObject *mod_version(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return PyUnicode_FromString(goconc_version_string());
}

static PyObject *mod_version_number(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return PyLong_FromUnsignedLong(goconc_version_number());
}

/* The file the dynamic loader really mapped libgoconc from. */
static PyObject *mod_library_path(PyObject *m, PyObject *unused)
{
    Dl_info info;
    (void)m;
    (void)unused;
    if (dladdr((void *)&goconc_version_number, &info) == 0 ||
        info.dli_fname == NULL) {
        PyErr_SetString(PyExc_OSError, "goconc: dladdr found no library");
        return NULL;
    }
    return PyUnicode_DecodeFSDefault(info.dli_fname);
}

/* synchronize and barrier wait for other threads: without the GIL.  The
 * barrier's destroys fill the grave, emptied here. */
static PyObject *mod_wait(int (*fn)(void))
{
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = fn();
    Py_END_ALLOW_THREADS
    grave_drain();
    if (st < 0)
        return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *mod_synchronize(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return mod_wait(goconc_synchronize);
}

static PyObject *mod_barrier(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return mod_wait(goconc_barrier);
}

static PyObject *mod_read_lock(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    goconc_read_lock();
    Py_RETURN_NONE;
}

static PyObject *mod_read_unlock(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    goconc_read_unlock();
    Py_RETURN_NONE;
}

static PyObject *mod_reclaim_stats(PyObject *m, PyObject *unused)
{
    goconc_reclaim_stats s = GOCONC_RECLAIM_STATS_INIT;
    int st;
    (void)m;
    (void)unused;
    st = goconc_reclaim_stats_get(&s);
    if (st < 0)
        return raise_status(st);
    return Py_BuildValue("(nnKK)", (Py_ssize_t)s.pending, (Py_ssize_t)s.threads,
                         (unsigned long long)s.epoch,
                         (unsigned long long)s.reclaimed);
}

static PyObject *mod_pending_drops(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return PyLong_FromSize_t(grave_count());
}

/* _setup(error_base, error_classes, keep): the Python-side objects. */
static PyObject *mod_setup(PyObject *m, PyObject *args)
{
    PyObject *base, *classes, *keep;
    (void)m;
    if (!PyArg_ParseTuple(args, "OO!O", &base, &PyDict_Type, &classes, &keep))
        return NULL;
    Py_INCREF(base);
    Py_XSETREF(error_base, base);
    Py_INCREF(classes);
    Py_XSETREF(error_classes, classes);
    Py_INCREF(keep);
    Py_XSETREF(keep_sentinel, keep);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"strerror", mod_strerror, METH_O, "goconc_strerror(status) as str."},
    {"version", mod_version, METH_NOARGS, NULL},
    {"version_number", mod_version_number, METH_NOARGS, NULL},
    {"library_path", mod_library_path, METH_NOARGS, NULL},
    {"synchronize", mod_synchronize, METH_NOARGS, NULL},
    {"barrier", mod_barrier, METH_NOARGS, NULL},
    {"_read_lock", mod_read_lock, METH_NOARGS, NULL},
    {"_read_unlock", mod_read_unlock, METH_NOARGS, NULL},
    {"_reclaim_stats", mod_reclaim_stats, METH_NOARGS, NULL},
    {"_pending_drops", mod_pending_drops, METH_NOARGS, NULL},
    {"_setup", mod_setup, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "goconc._goconc",
    "The native core of the goconc bindings (see goconc/__init__.py).", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

static int add_type(PyObject *m, PyTypeObject *t, const char *name)
{
    if (PyType_Ready(t) < 0)
        return -1;
    Py_INCREF(t);
    if (PyModule_AddObject(m, name, (PyObject *)t) < 0) {
        Py_DECREF(t);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__goconc(void)
{
    PyObject *m, *st, *bases;

    m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    st = PyImport_ImportModule("struct");
    if (st == NULL)
        goto fail;
    struct_error = PyObject_GetAttrString(st, "error");
    Py_DECREF(st);
    if (struct_error == NULL)
        goto fail;
    bases = PyTuple_Pack(2, PyExc_TypeError, struct_error);
    if (bases == NULL)
        goto fail;
    element_type_error = PyErr_NewExceptionWithDoc(
        "goconc.ElementTypeError",
        "An element of the wrong type for a Slice's format (a TypeError, "
        "and a struct.error as struct.pack would raise).",
        bases, NULL);
    Py_DECREF(bases);
    if (element_type_error == NULL)
        goto fail;
    Py_INCREF(element_type_error);
    if (PyModule_AddObject(m, "ElementTypeError", element_type_error) < 0) {
        Py_DECREF(element_type_error);
        goto fail;
    }
    zero = PyLong_FromLong(0);
    str_pack = PyUnicode_InternFromString("pack");
    str_unpack = PyUnicode_InternFromString("unpack");
    str_getslice = PyUnicode_InternFromString("_getslice");
    if (!zero || !str_pack || !str_unpack || !str_getslice)
        goto fail;
    if (add_type(m, &MapType, "MapBase") < 0 ||
        add_type(m, &SliceType, "SliceBase") < 0 ||
        add_type(m, &ViewType, "ViewBase") < 0 ||
        add_type(m, &ValueType, "ValueBase") < 0 ||
        add_type(m, &OnceType, "OnceBase") < 0 ||
        add_type(m, &PoolType, "PoolBase") < 0)
        goto fail;
    if (PyModule_AddIntConstant(m, "GOCONC_VERSION_NUMBER",
                                GOCONC_VERSION_NUMBER) < 0 ||
        PyModule_AddIntConstant(m, "SIZEOF_ONCE", sizeof(goconc_once)) < 0 ||
        PyModule_AddIntConstant(m, "SIZEOF_VIEW", sizeof(goconc_view)) < 0)
        goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
