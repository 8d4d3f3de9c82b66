/* SPDX-License-Identifier: MIT */
/*
 * goconc.Once's native part: goconc_once_try with a Python function.
 */
#include "_goconc.h"

typedef struct {
    PyObject_HEAD
    goconc_once o;
} OnceObject;

struct once_ctx {
    PyObject *fn;
    PyThreadState *ts;
    PyObject *et, *ev, *etb;
};

/* goconc_once_try calls fn on the thread that called it, which released
 * the GIL: take it back for fn's duration only, so waiters and other
 * threads run meanwhile. */
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

PyTypeObject OnceType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goconc._goconc.OnceBase",
    .tp_basicsize = sizeof(OnceObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The native part of goconc.Once.",
    .tp_methods = once_methods,
    .tp_getset = once_getset,
    .tp_new = PyType_GenericNew,
};
