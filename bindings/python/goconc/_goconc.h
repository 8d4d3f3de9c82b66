/* SPDX-License-Identifier: MIT */
/*
 * _goconc.h - what the files of the extension goconc._goconc share: the
 * handle every native type starts with, bytes arguments, statuses to
 * exceptions, and the grave (see _goconc.c).  Internal; not installed.
 */
#ifndef GOCONC_PY_H
#define GOCONC_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include <goconc.h>

/* Python objects set up by _goconc.c (module init and _setup()). */
extern PyObject *keep_sentinel;        /* goconc.KEEP */
extern PyObject *struct_error;         /* struct.error */
extern PyObject *element_type_error;   /* goconc.ElementTypeError */
extern PyObject *str_pack, *str_unpack, *str_getslice;

extern PyTypeObject MapType, SliceType, ViewType, ValueType, OnceType,
    PoolType;

/* ---------------------------------------------------------------- grave */

extern int grave_nonempty;
void grave_push(PyObject *o);
void grave_drain_slow(void);

/* With the GIL: drop every object parked by the library's callbacks.  One
 * atomic load when there is none (every call that may park one drains). */
static inline void grave_drain(void)
{
    if (__atomic_load_n(&grave_nonempty, __ATOMIC_ACQUIRE))
        grave_drain_slow();
}

/* The destroy callback of values and the free_obj of pools. */
void drop_later(void *ctx, void *obj);

/* Raise the GoconcError subclass for a failing status; returns NULL. */
PyObject *raise_status(int st);

/* -------------------------------------------------------------- handles */

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

static inline int handle_open(HandleObject *o)
{
    if (o->h == NULL || o->closing) {
        PyErr_Format(PyExc_ValueError, "operation on a closed goconc.%s",
                     o->kind ? o->kind : "object");
        return 0;
    }
    return 1;
}

static inline void handle_free_now(HandleObject *o)
{
    void *h = o->h;
    o->h = NULL;
    if (h != NULL)
        o->release(h);
}

static inline void handle_pin(HandleObject *o) { o->active++; }

static inline void handle_unpin(HandleObject *o)
{
    if (--o->active == 0 && o->closing)
        handle_free_now(o);
}

PyObject *handle_close(HandleObject *o, PyObject *unused);
PyObject *handle_enter(HandleObject *o, PyObject *unused);
PyObject *handle_exit(HandleObject *o, PyObject *args);
PyObject *handle_closed(HandleObject *o, void *unused);
void handle_dealloc(HandleObject *o);
extern PyGetSetDef handle_getset[];

#define HANDLE_METHODS                                                     \
    {"close", (PyCFunction)handle_close, METH_NOARGS,                      \
     "Free the C object now (idempotent); calls still running on other "   \
     "threads finish first, later calls raise ValueError."},               \
    {"__enter__", (PyCFunction)handle_enter, METH_NOARGS, NULL},           \
    {"__exit__", (PyCFunction)handle_exit, METH_VARARGS, NULL}

/* Integer arguments: an index-able int in [0, max]; ValueError below 0,
 * OverflowError above max, where C would silently wrap. */
int arg_uint(PyObject *o, unsigned long long max, const char *name,
             unsigned long long *out);

/* ------------------------------------------------------ bytes arguments */

typedef struct {
    const char *p;
    Py_ssize_t n;
    Py_buffer view;
    int has_view;
} bytesarg;

int bytesarg_get_buffer(PyObject *o, bytesarg *b, const char *what);

static inline int bytesarg_get(PyObject *o, bytesarg *b, const char *what)
{
    b->has_view = 0;
    if (PyBytes_CheckExact(o)) {
        b->p = PyBytes_AS_STRING(o);
        b->n = PyBytes_GET_SIZE(o);
        return 0;
    }
    return bytesarg_get_buffer(o, b, what);
}

static inline void bytesarg_done(bytesarg *b)
{
    if (b->has_view)
        PyBuffer_Release(&b->view);
}

/* o as a new bytes object (bytes itself: a new reference). */
PyObject *as_bytes(PyObject *o, const char *what);

#endif /* GOCONC_PY_H */
