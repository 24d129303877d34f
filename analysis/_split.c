/* Where `analysis.sentences.split_sentences` cuts a text, computed as its Python code computes it.

   `sentence_bounds(text, abbreviations)` returns [start, end, start, end, ...]: the sentences of
   `text`, in order, with the offsets the Python splitter gives them. It follows the Python code step
   by step: the matches of `_BOUNDARY` (`[.!?…]+["'”’)\]]*(?=\s|$)|\n+`, found as `re.finditer` finds
   them, leftmost first), a lone period after an abbreviation or an initial that does not end the
   sentence (`_word_before`, then the word lowered and its periods stripped as `str.lower` and
   `str.rstrip` do), and each piece trimmed of white space and dropped without a letter or digit
   (`_trimmed`). White space, letters and digits are those of `str.isspace`, `str.isalpha` and
   `str.isalnum` (the same Unicode tables `re` uses for `\s` and `\w`). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} Text;

#define AT(t, i) PyUnicode_READ((t)->kind, (t)->data, (i))

static int is_mark(Py_UCS4 c) { /* [.!?…] */
    return c == '.' || c == '!' || c == '?' || c == 0x2026;
}

static int is_closer(Py_UCS4 c) { /* ["'”’)\]] */
    return c == '"' || c == '\'' || c == 0x201D || c == 0x2019 || c == ')' || c == ']';
}

/* `_trimmed`: appends the piece [start, end) without its white space, unless it holds no letter or digit. */
static int append_piece(PyObject *out, const Text *t, Py_ssize_t start, Py_ssize_t end) {
    while (start < end && Py_UNICODE_ISSPACE(AT(t, start)))
        start++;
    while (end > start && Py_UNICODE_ISSPACE(AT(t, end - 1)))
        end--;
    int letters = 0;
    for (Py_ssize_t k = start; k < end && !letters; k++)
        letters = Py_UNICODE_ISALNUM(AT(t, k));
    if (!letters)
        return 0;
    PyObject *a = PyLong_FromSsize_t(start), *b = PyLong_FromSsize_t(end);
    int failed = a == NULL || b == NULL || PyList_Append(out, a) < 0 || PyList_Append(out, b) < 0;
    Py_XDECREF(a);
    Py_XDECREF(b);
    return failed ? -1 : 0;
}

/* Whether the lone period at `at` keeps the sentence going: the word before it (`_word_before`) is an
   abbreviation or a single letter. 1 yes, 0 no, -1 error. */
static int continues(PyObject *text, const Text *t, Py_ssize_t at, PyObject *abbreviations) {
    Py_ssize_t end = at;
    if (end > 0 && AT(t, end - 1) == '\n') /* `$` also matches before a final newline */
        end--;
    Py_ssize_t start = end;
    while (start > 0) {
        Py_UCS4 c = AT(t, start - 1);
        if (!(Py_UNICODE_ISALNUM(c) || c == '_' || c == '.'))
            break;
        start--;
    }
    if (start >= end)
        return 0;
    PyObject *word = PyUnicode_Substring(text, start, end);
    if (word == NULL)
        return -1;
    PyObject *lower = PyObject_CallMethod(word, "lower", NULL);
    Py_DECREF(word);
    if (lower == NULL)
        return -1;
    PyObject *token = PyObject_CallMethod(lower, "rstrip", "s", ".");
    Py_DECREF(lower);
    if (token == NULL)
        return -1;
    int found = PySet_Contains(abbreviations, token);
    if (found == 0 && PyUnicode_GET_LENGTH(token) == 1)
        found = Py_UNICODE_ISALPHA(PyUnicode_READ_CHAR(token, 0));
    Py_DECREF(token);
    return found;
}

static PyObject *sentence_bounds(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyAnySet_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "sentence_bounds(text: str, abbreviations: set | frozenset)");
        return NULL;
    }
    PyObject *text = args[0], *abbreviations = args[1];
    Text t = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)};
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t start = 0, p = 0;
    while (p < t.n) {
        Py_UCS4 c = AT(&t, p);
        Py_ssize_t match_end;
        if (is_mark(c)) {
            /* Greedy runs of marks and closers; a shorter match would end before a mark or a closer,
               which is not white space, so the longest is the only one the look-ahead can accept. */
            Py_ssize_t q = p;
            while (q < t.n && is_mark(AT(&t, q)))
                q++;
            while (q < t.n && is_closer(AT(&t, q)))
                q++;
            if (q < t.n && !Py_UNICODE_ISSPACE(AT(&t, q))) {
                p++;
                continue;
            }
            match_end = q;
        } else if (c == '\n') {
            match_end = p;
            while (match_end < t.n && AT(&t, match_end) == '\n')
                match_end++;
        } else {
            p++;
            continue;
        }
        if (match_end - p == 1 && c == '.') {
            int kept = continues(text, &t, p, abbreviations);
            if (kept < 0)
                goto error;
            if (kept) {
                p = match_end;
                continue;
            }
        }
        if (append_piece(out, &t, start, match_end) < 0)
            goto error;
        start = p = match_end;
    }
    if (append_piece(out, &t, start, t.n) < 0)
        goto error;
    return out;
error:
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"sentence_bounds", (PyCFunction)(void (*)(void))sentence_bounds, METH_FASTCALL,
     "sentence_bounds(text, abbreviations) -> [start, end, ...] of the sentences split_sentences finds"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "analysis._split",
    .m_doc = "The sentence splitter of analysis/sentences.py in C.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__split(void) {
    return PyModule_Create(&module);
}
