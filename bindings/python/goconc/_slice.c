/* SPDX-License-Identifier: MIT */
/*
 * goconc.Slice's and goconc.View's native parts: element packing,
 * goconc_slice and goconc_view.
 */
#include "_goconc.h"

#include <math.h>

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

PyTypeObject SliceType = {
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

PyTypeObject ViewType = {
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
