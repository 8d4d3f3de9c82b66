/* SPDX-License-Identifier: MIT */
/*
 * goconc.Value's native part: goconc_value holding Python objects.
 */
#include "_goconc.h"

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

PyTypeObject ValueType = {
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
