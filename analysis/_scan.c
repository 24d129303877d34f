/* One pass of the taxonomy's literals over a folded text, as `analysis.matcher.LiteralScan.scan` makes it.

   `Automaton(chars, transitions, found, found_pool, found_words, outputs, start_list, start_pool,
   start_words).scan(folded)` returns (found, [(start, start bits), ...] leftmost first): the OR of
   the found bits of every literal occurring in `folded`, and for each position where literals start,
   the OR of their start bits. The tables are the deterministic automaton `analysis/automaton.py`
   compiles from the literals (its docstring says what each holds); this file only walks them, so the
   scan is the one Aho-Corasick's matches give, without a Python object per match.

   Bit sets are little-endian bytes in the tables (`found_words` and `start_words` 64-bit words each)
   and Python ints in the result. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t classes;     /* character classes: 0 is every character no literal holds */
    uint16_t low[256];      /* class of each code point below 256 */
    Py_UCS4 *high;          /* the other characters of the literals, sorted, */
    uint16_t *high_class;   /* and their classes */
    Py_ssize_t n_high;
    Py_ssize_t states;
    int32_t *transitions;   /* states x classes: the next state */
    int32_t *found;         /* per state: index into found_pool, or -1 */
    uint64_t *found_pool;
    Py_ssize_t found_words;
    Py_ssize_t n_found;
    int32_t *outputs;       /* per state: (offset, count) into start_list */
    int32_t *start_list;    /* (literal length, index into start_pool) */
    Py_ssize_t n_start_list;
    uint64_t *start_pool;
    Py_ssize_t start_words;
    Py_ssize_t n_start;
    PyObject **start_ints;  /* start_pool's sets as Python ints, made once */
} Automaton;

static void Automaton_clear(Automaton *self) {
    if (self->start_ints != NULL)
        for (Py_ssize_t k = 0; k < self->n_start; k++)
            Py_XDECREF(self->start_ints[k]);
    PyMem_Free(self->start_ints);
    self->start_ints = NULL;
    PyMem_Free(self->high);
    PyMem_Free(self->high_class);
    PyMem_Free(self->transitions);
    PyMem_Free(self->found);
    PyMem_Free(self->found_pool);
    PyMem_Free(self->outputs);
    PyMem_Free(self->start_list);
    PyMem_Free(self->start_pool);
    self->high = NULL;
    self->high_class = NULL;
    self->transitions = self->found = self->outputs = self->start_list = NULL;
    self->found_pool = self->start_pool = NULL;
}

/* A copy of a bytes-like table of int32 values, checked to hold `count` of them. */
static int32_t *copy_ints(PyObject *obj, Py_ssize_t count, const char *name) {
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int32_t *out = NULL;
    if (view.len != count * (Py_ssize_t)sizeof(int32_t)) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes, expected %zd", name, view.len, count * (Py_ssize_t)sizeof(int32_t));
    } else if ((out = PyMem_Malloc(count > 0 ? (size_t)view.len : 1)) == NULL) {
        PyErr_NoMemory();
    } else {
        memcpy(out, view.buf, (size_t)view.len);
    }
    PyBuffer_Release(&view);
    return out;
}

/* Little-endian bit sets of `words` 64-bit words each -> host words; sets the count of sets. */
static uint64_t *copy_pool(PyObject *obj, Py_ssize_t words, Py_ssize_t *sets, const char *name) {
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    uint64_t *out = NULL;
    Py_ssize_t width = words * 8;
    if (words < 1 || view.len % width != 0) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes is not a whole number of %zd-word sets", name, view.len, words);
    } else if ((out = PyMem_Malloc(view.len > 0 ? (size_t)view.len : 1)) == NULL) {
        PyErr_NoMemory();
    } else {
        const unsigned char *b = view.buf;
        for (Py_ssize_t w = 0; w < view.len / 8; w++) {
            uint64_t v = 0;
            for (int k = 7; k >= 0; k--)
                v = (v << 8) | b[w * 8 + k];
            out[w] = v;
        }
        *sets = view.len / width;
    }
    PyBuffer_Release(&view);
    return out;
}

/* The bit set as a Python int. */
static PyObject *bits_to_int(const uint64_t *words, Py_ssize_t n) {
    while (n > 1 && words[n - 1] == 0) /* the high words left out: fewer bytes to convert */
        n--;
    unsigned char stack[256];
    unsigned char *bytes = n * 8 <= (Py_ssize_t)sizeof(stack) ? stack : PyMem_Malloc((size_t)n * 8);
    if (bytes == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t w = 0; w < n; w++)
        for (int k = 0; k < 8; k++)
            bytes[w * 8 + k] = (unsigned char)(words[w] >> (8 * k));
    PyObject *value = _PyLong_FromByteArray(bytes, (size_t)n * 8, 1, 0);
    if (bytes != stack)
        PyMem_Free(bytes);
    return value;
}

static int Automaton_init(Automaton *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"chars", "transitions", "found", "found_pool", "found_words", "outputs",
                             "start_list", "start_pool", "start_words", NULL};
    PyObject *chars, *transitions, *found, *found_pool, *outputs, *start_list, *start_pool;
    Py_ssize_t found_words, start_words;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UOOOnOOOn", kwlist, &chars, &transitions, &found, &found_pool,
                                     &found_words, &outputs, &start_list, &start_pool, &start_words))
        return -1;
    Automaton_clear(self);
    Py_ssize_t n_chars = PyUnicode_GET_LENGTH(chars);
    if (n_chars >= 65535) {
        PyErr_SetString(PyExc_ValueError, "chars: too many distinct characters");
        return -1;
    }
    self->classes = n_chars + 1;
    memset(self->low, 0, sizeof(self->low));
    self->high = PyMem_Malloc((size_t)(n_chars + 1) * sizeof(Py_UCS4));
    self->high_class = PyMem_Malloc((size_t)(n_chars + 1) * sizeof(uint16_t));
    if (self->high == NULL || self->high_class == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->n_high = 0;
    Py_UCS4 previous = 0;
    for (Py_ssize_t k = 0; k < n_chars; k++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(chars, k);
        if (k > 0 && c <= previous) {
            PyErr_SetString(PyExc_ValueError, "chars: not sorted or not distinct");
            return -1;
        }
        previous = c;
        if (c < 256) {
            self->low[c] = (uint16_t)(k + 1);
        } else {
            self->high[self->n_high] = c;
            self->high_class[self->n_high++] = (uint16_t)(k + 1);
        }
    }
    Py_ssize_t table_len = PyObject_Length(transitions);
    if (table_len < 0)
        return -1;
    self->states = table_len / (Py_ssize_t)sizeof(int32_t) / self->classes;
    if (self->states < 1) {
        PyErr_SetString(PyExc_ValueError, "transitions: no states");
        return -1;
    }
    self->found_words = found_words;
    self->start_words = start_words;
    if ((self->transitions = copy_ints(transitions, self->states * self->classes, "transitions")) == NULL
        || (self->found = copy_ints(found, self->states, "found")) == NULL
        || (self->outputs = copy_ints(outputs, 2 * self->states, "outputs")) == NULL
        || (self->found_pool = copy_pool(found_pool, found_words, &self->n_found, "found_pool")) == NULL
        || (self->start_pool = copy_pool(start_pool, start_words, &self->n_start, "start_pool")) == NULL)
        return -1;
    Py_ssize_t list_len = PyObject_Length(start_list);
    if (list_len < 0)
        return -1;
    self->n_start_list = list_len / (Py_ssize_t)(2 * sizeof(int32_t));
    if ((self->start_list = copy_ints(start_list, 2 * self->n_start_list, "start_list")) == NULL)
        return -1;
    /* Every index is checked once here, so that scan() can trust the tables. */
    for (Py_ssize_t k = 0; k < self->states * self->classes; k++)
        if (self->transitions[k] < 0 || self->transitions[k] >= self->states) {
            PyErr_SetString(PyExc_ValueError, "transitions: a state out of range");
            return -1;
        }
    for (Py_ssize_t s = 0; s < self->states; s++) {
        int32_t f = self->found[s], offset = self->outputs[2 * s], count = self->outputs[2 * s + 1];
        if (f < -1 || f >= self->n_found || offset < 0 || count < 0 || (Py_ssize_t)offset + count > self->n_start_list) {
            PyErr_SetString(PyExc_ValueError, "found or outputs: an index out of range");
            return -1;
        }
    }
    for (Py_ssize_t k = 0; k < self->n_start_list; k++)
        if (self->start_list[2 * k] < 1 || self->start_list[2 * k + 1] < 0 || self->start_list[2 * k + 1] >= self->n_start) {
            PyErr_SetString(PyExc_ValueError, "start_list: a length or index out of range");
            return -1;
        }
    if ((self->start_ints = PyMem_Calloc((size_t)(self->n_start > 0 ? self->n_start : 1), sizeof(PyObject *))) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < self->n_start; k++)
        if ((self->start_ints[k] = bits_to_int(self->start_pool + k * start_words, start_words)) == NULL)
            return -1;
    return 0;
}

static Py_ssize_t class_of(const Automaton *self, Py_UCS4 c) {
    if (c < 256)
        return self->low[c];
    Py_ssize_t lo = 0, hi = self->n_high;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (self->high[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < self->n_high && self->high[lo] == c ? self->high_class[lo] : 0;
}

typedef struct {
    Py_ssize_t start;
    PyObject *bits; /* the OR of the start bits of the literals starting there */
} Start;

static int by_start(const void *a, const void *b) {
    Py_ssize_t x = ((const Start *)a)->start, y = ((const Start *)b)->start;
    return (x > y) - (x < y);
}

static PyObject *Automaton_scan(Automaton *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "scan() takes a str");
        return NULL;
    }
    if (self->start_ints == NULL) {
        PyErr_SetString(PyExc_ValueError, "the automaton was not built");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t fw = self->found_words;
    PyObject *result = NULL, *found_int = NULL, *starts = NULL;
    uint64_t *found = PyMem_Calloc((size_t)fw, sizeof(uint64_t));
    Py_ssize_t *slot_at = PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof(Py_ssize_t)); /* start -> slot, or -1 */
    Start *slots = NULL; /* the starts found, in the order found */
    Py_ssize_t used = 0, room = 0;
    if (found == NULL || slot_at == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < n; k++)
        slot_at[k] = -1;
    int32_t state = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        state = self->transitions[(Py_ssize_t)state * self->classes + class_of(self, PyUnicode_READ(kind, data, i))];
        int32_t f = self->found[state];
        if (f >= 0) {
            const uint64_t *bits = self->found_pool + (Py_ssize_t)f * fw;
            for (Py_ssize_t w = 0; w < fw; w++)
                found[w] |= bits[w];
        }
        const int32_t *out = self->start_list + 2 * (Py_ssize_t)self->outputs[2 * state];
        for (int32_t m = 0; m < self->outputs[2 * state + 1]; m++) {
            Py_ssize_t start = i - out[2 * m] + 1;
            PyObject *bits = self->start_ints[out[2 * m + 1]];
            if (start < 0)
                continue; /* cannot happen: a literal ending at i began inside the text */
            if (slot_at[start] < 0) {
                if (used == room) {
                    Py_ssize_t grown = room ? 2 * room : 16;
                    Start *more = PyMem_Realloc(slots, (size_t)grown * sizeof(Start));
                    if (more == NULL) {
                        PyErr_NoMemory();
                        goto done;
                    }
                    slots = more;
                    room = grown;
                }
                Py_INCREF(bits);
                slots[used].start = start;
                slots[used].bits = bits;
                slot_at[start] = used++;
            } else {
                Start *into = &slots[slot_at[start]];
                PyObject *both = PyNumber_Or(into->bits, bits);
                if (both == NULL)
                    goto done;
                Py_SETREF(into->bits, both);
            }
        }
    }
    if ((found_int = bits_to_int(found, fw)) == NULL || (starts = PyList_New(used)) == NULL)
        goto done;
    if (used > 1)
        qsort(slots, (size_t)used, sizeof(Start), by_start);
    for (Py_ssize_t k = 0; k < used; k++) {
        PyObject *at = PyLong_FromSsize_t(slots[k].start);
        PyObject *pair = at != NULL ? PyTuple_Pack(2, at, slots[k].bits) : NULL;
        Py_XDECREF(at);
        if (pair == NULL)
            goto done;
        PyList_SET_ITEM(starts, k, pair);
    }
    result = PyTuple_Pack(2, found_int, starts);
done:
    Py_XDECREF(found_int);
    Py_XDECREF(starts);
    for (Py_ssize_t k = 0; k < used; k++)
        Py_DECREF(slots[k].bits);
    PyMem_Free(found);
    PyMem_Free(slot_at);
    PyMem_Free(slots);
    return result;
}

static void Automaton_dealloc(Automaton *self) {
    Automaton_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Automaton_methods[] = {
    {"scan", (PyCFunction)Automaton_scan, METH_O,
     "scan(folded) -> (found bits, [(start, start bits), ...] leftmost first)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject AutomatonType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "analysis._scan.Automaton",
    .tp_basicsize = sizeof(Automaton),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The literals' automaton compiled by analysis/automaton.py.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Automaton_init,
    .tp_dealloc = (destructor)Automaton_dealloc,
    .tp_methods = Automaton_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "analysis._scan",
    .m_doc = "The literal scan of analysis/matcher.py in C (see analysis/automaton.py).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__scan(void) {
    if (PyType_Ready(&AutomatonType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&AutomatonType);
    if (PyModule_AddObject(m, "Automaton", (PyObject *)&AutomatonType) < 0) {
        Py_DECREF(&AutomatonType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
