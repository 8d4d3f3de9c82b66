/* SPDX-License-Identifier: MIT */
/*
 * goconc.Pool's native part: goconc_pool of Python objects.
 */
#include "_goconc.h"

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

PyTypeObject PoolType = {
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
