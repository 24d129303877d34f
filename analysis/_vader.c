/* VADER's scores of an ASCII text, exactly as vaderSentiment 3.3.2 (and analysis/vader_fast.py) give them.

   `Scorer(lexicon, booster, special, negate, n_scalar, c_incr).scores(text)` returns (neg, neu, pos,
   compound) before rounding, computed as `FastVader._score` computes them: the same words (str.split,
   punctuation stripped as `_strip_punc_if_word` does), the same rules in the same order, the same
   floating-point operations, and the valences added by builtins.sum as the reference adds them. Only
   ASCII text is accepted: for it, str.split, str.strip, str.lower and str.isupper are the byte-wise
   rules below, and it holds no emoji; any other text stays with the Python code. The dictionaries
   are vaderSentiment's own, passed in by the caller and copied into one hash table of their ASCII
   keys (a word or an n-gram of words joined by single spaces).

   Built with -ffp-contract=off: a fused multiply-add would round differently from Python. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* What the dictionaries say of one string: a word or an n-gram of words joined by single spaces. */
enum { IN_LEXICON = 1, IN_BOOSTER = 2, IN_SPECIAL = 4, IN_NEGATE = 8 };

typedef struct {
    const char *key; /* NULL: an empty slot */
    Py_ssize_t len;
    unsigned flags;
    double lex, boost, special;
} Entry;

typedef struct {
    PyObject_HEAD
    Entry *table;  /* open addressing, a power of two of slots, at most half full */
    size_t mask;
    char *keys;    /* the keys' bytes */
    PyObject *sum; /* builtins.sum: the reference adds the valences with it, whatever it does */
    double n_scalar;
    double c_incr;
} Scorer;

typedef struct {
    const char *s; /* the lowered word, in the scratch buffer */
    Py_ssize_t len;
    int upper;     /* the word (not lowered) is str.isupper() */
    int in_lex;
    double lex;
    int in_boost;
    double boost;
    int negation;  /* in NEGATE, or holds "n't" */
} Word;

/* Python's str.split() white space, within ASCII. */
static int is_space(unsigned char c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
}

/* string.punctuation */
static int is_punct(unsigned char c) {
    return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

static size_t hash_bytes(const char *s, Py_ssize_t len) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (Py_ssize_t k = 0; k < len; k++) {
        h ^= (unsigned char)s[k];
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static Entry *find(const Scorer *self, const char *s, Py_ssize_t len) {
    for (size_t slot = hash_bytes(s, len) & self->mask;; slot = (slot + 1) & self->mask) {
        Entry *e = &self->table[slot];
        if (e->key == NULL || (e->len == len && memcmp(e->key, s, (size_t)len) == 0))
            return e;
    }
}

static int word_is(const Word *w, const char *lit) {
    size_t n = strlen(lit);
    return (size_t)w->len == n && memcmp(w->s, lit, n) == 0;
}

/* The entry of words[from..to] (inclusive) joined by single spaces, or NULL. */
static const Entry *find_gram(const Scorer *self, const Word *words, Py_ssize_t from, Py_ssize_t to, char *buf) {
    Py_ssize_t n = 0;
    for (Py_ssize_t k = from; k <= to; k++) {
        if (k > from)
            buf[n++] = ' ';
        memcpy(buf + n, words[k].s, (size_t)words[k].len);
        n += words[k].len;
    }
    const Entry *e = find(self, buf, n);
    return e->key != NULL ? e : NULL;
}

static double scalar_inc_dec(const Scorer *self, const Word *w, double valence, int is_cap_diff) {
    double scalar = 0.0;
    if (w->in_boost) {
        scalar = w->boost;
        if (valence < 0)
            scalar *= -1;
        if (w->upper && is_cap_diff) {
            if (valence > 0)
                scalar += self->c_incr;
            else
                scalar -= self->c_incr;
        }
    }
    return scalar;
}

static double negation_check(const Scorer *self, double valence, const Word *w, int start_i, Py_ssize_t i) {
    if (start_i == 0) {
        if (w[i - 1].negation)
            valence = valence * self->n_scalar;
    } else if (start_i == 1) {
        if (word_is(&w[i - 2], "never") && (word_is(&w[i - 1], "so") || word_is(&w[i - 1], "this")))
            valence = valence * 1.25;
        else if (word_is(&w[i - 2], "without") && word_is(&w[i - 1], "doubt"))
            ;
        else if (w[i - 2].negation)
            valence = valence * self->n_scalar;
    } else {
        if ((word_is(&w[i - 3], "never") && (word_is(&w[i - 2], "so") || word_is(&w[i - 2], "this")))
            || (word_is(&w[i - 1], "so") || word_is(&w[i - 1], "this")))
            valence = valence * 1.25;
        else if (word_is(&w[i - 3], "without") && (word_is(&w[i - 2], "doubt") || word_is(&w[i - 1], "doubt")))
            ;
        else if (w[i - 3].negation)
            valence = valence * self->n_scalar;
    }
    return valence;
}

static double special_idioms_check(const Scorer *self, double valence, const Word *w, Py_ssize_t i, Py_ssize_t n, char *buf) {
    /* onezero, twoonezero, twoone, threetwoone, threetwo: the first found wins */
    static const int grams[5][2] = {{1, 0}, {2, 0}, {2, 1}, {3, 1}, {3, 2}};
    const Entry *e;
    for (int g = 0; g < 5; g++) {
        e = find_gram(self, w, i - grams[g][0], i - grams[g][1], buf);
        if (e != NULL && (e->flags & IN_SPECIAL)) {
            valence = e->special;
            break;
        }
    }
    if (n - 1 > i && (e = find_gram(self, w, i, i + 1, buf)) != NULL && (e->flags & IN_SPECIAL))
        valence = e->special;
    if (n - 1 > i + 1 && (e = find_gram(self, w, i, i + 2, buf)) != NULL && (e->flags & IN_SPECIAL))
        valence = e->special;
    /* threetwoone, threetwo, twoone in the boosters */
    static const int boosts[3][2] = {{3, 1}, {3, 2}, {2, 1}};
    for (int g = 0; g < 3; g++) {
        e = find_gram(self, w, i - boosts[g][0], i - boosts[g][1], buf);
        if (e != NULL && (e->flags & IN_BOOSTER))
            valence = valence + e->boost;
    }
    return valence;
}

static double least_check(const Scorer *self, double valence, const Word *w, Py_ssize_t i) {
    if (i > 1 && !w[i - 1].in_lex && word_is(&w[i - 1], "least")) {
        if (!word_is(&w[i - 2], "at") && !word_is(&w[i - 2], "very"))
            valence = valence * self->n_scalar;
    } else if (i > 0 && !w[i - 1].in_lex && word_is(&w[i - 1], "least")) {
        valence = valence * self->n_scalar;
    }
    return valence;
}

static double word_valence(const Scorer *self, const Word *w, Py_ssize_t i, Py_ssize_t n, int is_cap_diff, char *buf) {
    double valence = w[i].lex;
    if (word_is(&w[i], "no") && i != n - 1 && w[i + 1].in_lex)
        valence = 0.0;
    if ((i > 0 && word_is(&w[i - 1], "no")) || (i > 1 && word_is(&w[i - 2], "no"))
        || (i > 2 && word_is(&w[i - 3], "no") && (word_is(&w[i - 1], "or") || word_is(&w[i - 1], "nor"))))
        valence = w[i].lex * self->n_scalar;
    if (w[i].upper && is_cap_diff) {
        if (valence > 0)
            valence += self->c_incr;
        else
            valence -= self->c_incr;
    }
    for (int start_i = 0; start_i < 3; start_i++) {
        Py_ssize_t j = i - (start_i + 1);
        if (i > start_i && !w[j].in_lex) {
            double s = scalar_inc_dec(self, &w[j], valence, is_cap_diff);
            if (start_i == 1 && s != 0)
                s = s * 0.95;
            if (start_i == 2 && s != 0)
                s = s * 0.9;
            valence = valence + s;
            valence = negation_check(self, valence, w, start_i, i);
            if (start_i == 2)
                valence = special_idioms_check(self, valence, w, i, n, buf);
        }
    }
    return least_check(self, valence, w, i);
}

/* vaderSentiment's "but" rule, with its quirk: each value is rescaled at the index of the first
   value equal to it (list.index), not at its own. */
static void but_check(double *sentiments, Py_ssize_t n, Py_ssize_t bi) {
    for (Py_ssize_t position = 0; position < n; position++) {
        double sentiment = sentiments[position];
        Py_ssize_t si = 0;
        while (sentiments[si] != sentiment)
            si++;
        if (si < bi)
            sentiments[si] = sentiment * 0.5;
        else if (si > bi)
            sentiments[si] = sentiment * 1.5;
    }
}

/* vaderSentiment's score_valence: (neg, neu, pos, compound) before rounding. The valences are added
   by builtins.sum, as the reference adds them (its float sum differs between Python versions). */
static PyObject *score_valence(const Scorer *self, const double *sentiments, Py_ssize_t n, const unsigned char *text,
                               Py_ssize_t size) {
    if (n == 0)
        return Py_BuildValue("(dddd)", 0.0, 0.0, 0.0, 0.0);
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyFloat_FromDouble(sentiments[i]);
        if (value == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, value);
    }
    PyObject *total_obj = PyObject_CallOneArg(self->sum, list);
    Py_DECREF(list);
    if (total_obj == NULL)
        return NULL;
    double sum_s = PyFloat_AsDouble(total_obj);
    Py_DECREF(total_obj);
    if (sum_s == -1.0 && PyErr_Occurred())
        return NULL;
    Py_ssize_t ep_count = 0, qm_count = 0;
    for (Py_ssize_t k = 0; k < size; k++) {
        ep_count += text[k] == '!';
        qm_count += text[k] == '?';
    }
    if (ep_count > 4)
        ep_count = 4;
    double qm_amplifier = 0;
    if (qm_count > 1)
        qm_amplifier = qm_count <= 3 ? (double)qm_count * 0.18 : 0.96;
    double punct_emph_amplifier = (double)ep_count * 0.292 + qm_amplifier;
    if (sum_s > 0)
        sum_s += punct_emph_amplifier;
    else if (sum_s < 0)
        sum_s -= punct_emph_amplifier;
    double compound = sum_s / sqrt((sum_s * sum_s) + 15);
    if (compound < -1.0)
        compound = -1.0;
    else if (compound > 1.0)
        compound = 1.0;
    double pos_sum = 0.0, neg_sum = 0.0;
    Py_ssize_t neu_count = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (sentiments[i] > 0)
            pos_sum += sentiments[i] + 1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (sentiments[i] < 0)
            neg_sum += sentiments[i] - 1;
    for (Py_ssize_t i = 0; i < n; i++)
        neu_count += sentiments[i] == 0;
    if (pos_sum > fabs(neg_sum))
        pos_sum += punct_emph_amplifier;
    else if (pos_sum < fabs(neg_sum))
        neg_sum -= punct_emph_amplifier;
    double total = pos_sum + fabs(neg_sum) + (double)neu_count;
    return Py_BuildValue("(dddd)", fabs(neg_sum / total), fabs((double)neu_count / total), fabs(pos_sum / total), compound);
}

static PyObject *Scorer_scores(Scorer *self, PyObject *text) {
    if (!PyUnicode_Check(text) || !PyUnicode_IS_ASCII(text)) {
        PyErr_SetString(PyExc_ValueError, "Scorer.scores takes an ASCII str");
        return NULL;
    }
    const unsigned char *src = (const unsigned char *)PyUnicode_DATA(text);
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    Py_ssize_t words_max = 1; /* the words, counted first: memory in proportion to them, not to the text */
    for (Py_ssize_t k = 0; k < size; k++)
        words_max += !is_space(src[k]) && (k == 0 || is_space(src[k - 1]));
    PyObject *result = NULL;
    Word *words = PyMem_Calloc((size_t)words_max, sizeof(Word));
    /* the lowered words, then room for the longest n-gram (three words and two spaces) */
    char *lowered = PyMem_Malloc((size_t)(2 * size + 8));
    char *gram = lowered + size + 1;
    double *sentiments = PyMem_Malloc((size_t)words_max * sizeof(double));
    if (words == NULL || lowered == NULL || sentiments == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t n = 0, used = 0, allcaps = 0, bi = -1;
    for (Py_ssize_t pos = 0; pos < size;) {
        while (pos < size && is_space(src[pos]))
            pos++;
        if (pos >= size)
            break;
        Py_ssize_t start = pos;
        while (pos < size && !is_space(src[pos]))
            pos++;
        Py_ssize_t a = start, b = pos;
        if (is_punct(src[a]) || is_punct(src[b - 1])) { /* _strip_punc_if_word */
            Py_ssize_t sa = a, sb = b;
            while (sa < sb && is_punct(src[sa]))
                sa++;
            while (sb > sa && is_punct(src[sb - 1]))
                sb--;
            if (sb - sa > 2) {
                a = sa;
                b = sb;
            }
        }
        Word *w = &words[n];
        int cased = 0, lower_seen = 0;
        w->s = lowered + used;
        w->len = b - a;
        for (Py_ssize_t k = a; k < b; k++) {
            unsigned char c = src[k];
            if (c >= 'A' && c <= 'Z') {
                cased = 1;
                c = (unsigned char)(c + 32);
            } else if (c >= 'a' && c <= 'z') {
                lower_seen = 1;
            }
            lowered[used++] = (char)c;
        }
        w->upper = cased && !lower_seen;
        allcaps += w->upper;
        const Entry *e = find(self, w->s, w->len);
        if (e->key != NULL) {
            w->in_lex = (e->flags & IN_LEXICON) != 0;
            w->lex = e->lex;
            w->in_boost = (e->flags & IN_BOOSTER) != 0;
            w->boost = e->boost;
            w->negation = (e->flags & IN_NEGATE) != 0;
        }
        for (Py_ssize_t k = 0; !w->negation && k + 3 <= w->len; k++)
            w->negation = memcmp(w->s + k, "n't", 3) == 0;
        if (bi < 0 && word_is(w, "but"))
            bi = n;
        n++;
    }
    int is_cap_diff = 0 < n - allcaps && n - allcaps < n;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!words[i].in_lex || words[i].in_boost)
            sentiments[i] = 0;
        else if (word_is(&words[i], "kind") && i < n - 1 && word_is(&words[i + 1], "of"))
            sentiments[i] = 0;
        else
            sentiments[i] = word_valence(self, words, i, n, is_cap_diff, gram);
    }
    if (bi >= 0)
        but_check(sentiments, n, bi);
    result = score_valence(self, sentiments, n, src, size);
done:
    PyMem_Free(words);
    PyMem_Free(lowered);
    PyMem_Free(sentiments);
    return result;
}

/* The bytes of the ASCII keys of `source` (a dict); a key that is not ASCII can never equal a word of
   an ASCII text, so it is left out of the table. */
static Py_ssize_t key_bytes(PyObject *source) {
    Py_ssize_t total = 0, pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(source, &pos, &key, &value))
        if (PyUnicode_Check(key) && PyUnicode_IS_ASCII(key))
            total += PyUnicode_GET_LENGTH(key);
    return total;
}

/* Add the ASCII keys of `source` (a dict of numbers) to the table with `flag`, and their numbers. */
static int add_keys(Scorer *self, PyObject *source, unsigned flag, size_t *used) {
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(source, &pos, &key, &value)) {
        if (!PyUnicode_Check(key) || !PyUnicode_IS_ASCII(key))
            continue;
        Py_ssize_t len = PyUnicode_GET_LENGTH(key);
        const char *data = (const char *)PyUnicode_DATA(key);
        Entry *e = find(self, data, len);
        if (e->key == NULL) {
            memcpy(self->keys + *used, data, (size_t)len);
            e->key = self->keys + *used;
            e->len = len;
            *used += (size_t)len;
        }
        e->flags |= flag;
        double number = PyFloat_AsDouble(value);
        if (number == -1.0 && PyErr_Occurred())
            return -1;
        if (flag == IN_LEXICON)
            e->lex = number;
        else if (flag == IN_BOOSTER)
            e->boost = number;
        else if (flag == IN_SPECIAL)
            e->special = number;
    }
    return 0;
}

static void Scorer_clear(Scorer *self) {
    PyMem_Free(self->table);
    PyMem_Free(self->keys);
    self->table = NULL;
    self->keys = NULL;
    Py_CLEAR(self->sum);
}

static int Scorer_init(Scorer *self, PyObject *args, PyObject *kwds) {
    static char *names[] = {"lexicon", "booster", "special", "negate", "n_scalar", "c_incr", NULL};
    PyObject *lexicon, *booster, *special, *negate;
    double n_scalar, c_incr;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!O!dd", names, &PyDict_Type, &lexicon, &PyDict_Type, &booster,
                                     &PyDict_Type, &special, &PyDict_Type, &negate, &n_scalar, &c_incr))
        return -1;
    Scorer_clear(self);
    Py_ssize_t count = PyDict_Size(lexicon) + PyDict_Size(booster) + PyDict_Size(special) + PyDict_Size(negate);
    size_t slots = 16;
    while (slots < 2 * (size_t)count + 2)
        slots *= 2;
    self->table = PyMem_Calloc(slots, sizeof(Entry));
    self->keys = PyMem_Malloc((size_t)(key_bytes(lexicon) + key_bytes(booster) + key_bytes(special) + key_bytes(negate) + 1));
    if (self->table == NULL || self->keys == NULL) {
        Scorer_clear(self);
        PyErr_NoMemory();
        return -1;
    }
    self->mask = slots - 1;
    size_t used = 0;
    if (add_keys(self, lexicon, IN_LEXICON, &used) < 0 || add_keys(self, booster, IN_BOOSTER, &used) < 0
        || add_keys(self, special, IN_SPECIAL, &used) < 0 || add_keys(self, negate, IN_NEGATE, &used) < 0) {
        Scorer_clear(self);
        return -1;
    }
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    self->sum = builtins != NULL ? PyDict_GetItemString(builtins, "sum") : NULL;
    if (self->sum == NULL) {
        Scorer_clear(self);
        PyErr_SetString(PyExc_RuntimeError, "builtins.sum not found");
        return -1;
    }
    Py_INCREF(self->sum);
    self->n_scalar = n_scalar;
    self->c_incr = c_incr;
    return 0;
}

static void Scorer_dealloc(Scorer *self) {
    Scorer_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Scorer_methods[] = {
    {"scores", (PyCFunction)Scorer_scores, METH_O,
     "scores(text) -> (neg, neu, pos, compound): vaderSentiment's scores of an ASCII text, not rounded."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "analysis._vader.Scorer",
    .tp_basicsize = sizeof(Scorer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "VADER's word valences over vaderSentiment's dictionaries (see analysis/vader_fast.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scorer_init,
    .tp_dealloc = (destructor)Scorer_dealloc,
    .tp_methods = Scorer_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "analysis._vader",
    .m_doc = "VADER's scores of ASCII text, in C (see analysis/vader_fast.py).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__vader(void) {
    if (PyType_Ready(&ScorerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ScorerType);
    if (PyModule_AddObject(m, "Scorer", (PyObject *)&ScorerType) < 0) {
        Py_DECREF(&ScorerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
