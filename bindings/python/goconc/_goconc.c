/* SPDX-License-Identifier: MIT */
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
#include "_goconc.h"

#include <dlfcn.h>
#include <pthread.h>

/* ------------------------------------------------------------ module state */

static PyObject *error_classes;   /* {status: GoconcError subclass} */
static PyObject *error_base;      /* GoconcError */
static PyObject *zero;            /* the int 0 */
PyObject *keep_sentinel;
PyObject *struct_error;
PyObject *element_type_error;
PyObject *str_pack, *str_unpack, *str_getslice;

/* ------------------------------------------------------------------ grave */

static pthread_mutex_t grave_mu = PTHREAD_MUTEX_INITIALIZER;
static PyObject **grave;
static size_t grave_len, grave_cap;
int grave_nonempty;               /* atomic; lets drain skip the mutex */

/* Any thread, GIL or not, even after finalization: park @o for a later
 * Py_DECREF.  Should the array fail to grow, the object leaks: dropping it
 * here would need the GIL this thread may not be able to take. */
void grave_push(PyObject *o)
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

/* grave_drain()'s slow path.  The array is taken out first: a Py_DECREF
 * may run a finalizer that re-enters grave_drain(). */
void grave_drain_slow(void)
{
    PyObject **g;
    size_t n, i;

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
void drop_later(void *ctx, void *obj)
{
    (void)ctx;
    grave_push((PyObject *)obj);
}

/* ------------------------------------------------------------ statuses */

/* Raise the GoconcError subclass for a failing status; returns NULL. */
PyObject *raise_status(int st)
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

PyObject *handle_close(HandleObject *o, PyObject *unused)
{
    (void)unused;
    o->closing = 1;
    if (o->active == 0)
        handle_free_now(o);
    grave_drain();
    Py_RETURN_NONE;
}

PyObject *handle_enter(HandleObject *o, PyObject *unused)
{
    (void)unused;
    Py_INCREF(o);
    return (PyObject *)o;
}

PyObject *handle_exit(HandleObject *o, PyObject *args)
{
    PyObject *r = handle_close(o, NULL);
    (void)args;
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

PyObject *handle_closed(HandleObject *o, void *unused)
{
    (void)unused;
    return PyBool_FromLong(o->closing || o->h == NULL);
}

/* An active call keeps a reference, so a dealloc never races one. */
void handle_dealloc(HandleObject *o)
{
    handle_free_now(o);
    Py_TYPE(o)->tp_free((PyObject *)o);
    grave_drain();
}

PyGetSetDef handle_getset[] = {
    {"closed", (getter)handle_closed, NULL, "True after close().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

int arg_uint(PyObject *o, unsigned long long max, const char *name,
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

int bytesarg_get_buffer(PyObject *o, bytesarg *b, const char *what)
{
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

PyObject *as_bytes(PyObject *o, const char *what)
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
