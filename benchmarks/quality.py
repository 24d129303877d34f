"""Quality benchmark of the analysis stage on real public data (`python benchmarks/quality.py`).

1. Themes: per-label precision, recall and F1 on the NHS England Friends-and-Family-Test comments of
   `../shared/data/nhs-feedback/v6_labelled_neas.csv`, with the v6 labels mapped to ReviewPulse
   themes as in `../shared/data/SOURCES.md` (a comment is predicted positive for a label when a
   mention of one of its themes is found, whatever its polarity; for Staff manner a `front_desk`
   mention found by a role name alone does not count, see NOT_EVIDENCE), next to a plain-keyword
   baseline. Rows without an answer (empty or the survey's "Did not answer") are left out. F1 is
   also given on the even and the odd rows: rules are tuned looking at even rows only.
2. Sentiment: ROC AUC of ReviewPulse's score and of plain VADER compound against the star rating
   (1-2 stars negative, 4-5 positive; 3 left out) on `../shared/data/hospital-reviews/hospital.csv`,
   scored from the text alone (the stars are the answer, so they are not given to the analyser), and
   the number of 1-2 star texts stating a complaint that are scored clearly positive (>= 0.5).
   The same AUC against the NHS labellers' sentiment (1-2 positive vs 4-5 negative) is reported too.

Everything runs through `analysis.classify.classify_file`, exactly as `reviewpulse classify` does.
`--readme` rewrites the figures between the quality markers of benchmarks/README.md;
`--errors LABEL` prints the missed and wrongly found comments of one label on the even rows, for
tuning (the odd rows stay unseen, as a check that a rule generalises).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.classify import classify_file  # noqa: E402
from analysis.taxonomy import load_taxonomy  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- quality:begin -->", "<!-- quality:end -->"

LABELS = {
    "Contacting services": ("phone_access", "callbacks"),
    "Appointment arrangements": ("scheduling",),
    "Timeliness of care": ("wait_time", "scheduling"),
    "Staff manner & personal attributes": ("front_desk", "provider_manner"),
}
# F1 of the supervised ensemble published for the same framework (the targets).
TARGETS = {
    "Contacting services": 0.68,
    "Appointment arrangements": 0.71,
    "Timeliness of care": 0.74,
    "Staff manner & personal attributes": 0.90,
}
# Mentions that are not evidence for a label, as (theme, rule field). The v6 label "Staff manner &
# personal attributes" is about how staff behaved; `front_desk` also covers what the office staff did
# (misinformation, hold-ups), and its `keywords` are role names alone ("the call handler said ..."),
# while its patterns and cues need a manner word. Polarity cannot make this distinction: most neutral
# mentions are manner words VADER has no score for ("very professional"). The figure counting every
# mention is reported too (ANY_MENTION_ROW).
NOT_EVIDENCE = {
    "Staff manner & personal attributes": {("front_desk", "keywords")},
}
ANY_MENTION_ROW = "Staff manner & personal attributes"
# The baseline: the obvious words for each label, matched anywhere in the comment.
BASELINE_WORDS = {
    "Contacting services": ["phone", "call", "called", "calls", "ring", "rang", "answer", "answered", "hold", "through"],
    "Appointment arrangements": ["appointment", "appointments", "book", "booked", "booking"],
    "Timeliness of care": ["wait", "waiting", "waited", "quick", "quickly", "late", "delay", "prompt", "time"],
    "Staff manner & personal attributes": ["friendly", "kind", "caring", "polite", "rude", "helpful", "pleasant", "lovely", "staff"],
}
NO_ANSWER = {"", "did not answer"}


def read_nhs(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fp:
        rows = list(csv.DictReader(fp))
    return [r for r in rows if r["FFT answer"].strip().lower() not in NO_ANSWER]


def read_hospital(path: Path) -> list[tuple[str, int]]:
    with path.open(encoding="utf-8", newline="") as fp:
        rows = list(csv.DictReader(fp))
    return [(r["Feedback"], int(r["Ratings"])) for r in rows if r["Feedback"].strip() and r["Ratings"].strip()]


def classify(texts: list[str], workdir: Path, name: str) -> tuple[list[dict], float]:
    """Run classify_file over the texts (written as a CSV of id,text); return results and seconds."""
    source = workdir / f"{name}.csv"
    with source.open("w", encoding="utf-8", newline="") as fp:
        writer = csv.writer(fp)
        writer.writerow(["id", "text"])
        writer.writerows((i, t) for i, t in enumerate(texts))
    started = time.perf_counter()
    with (workdir / f"{name}.jsonl").open("w", encoding="utf-8") as out:
        classify_file(source, out, load_taxonomy())
    seconds = time.perf_counter() - started
    with (workdir / f"{name}.jsonl").open(encoding="utf-8") as fp:
        return [json.loads(line) for line in fp], seconds


def prf(gold: list[bool], pred: list[bool]) -> tuple[float, float, float, int]:
    tp = sum(g and p for g, p in zip(gold, pred))
    fp = sum(p and not g for g, p in zip(gold, pred))
    fn = sum(g and not p for g, p in zip(gold, pred))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp + fn


def roc_auc(scores: list[float], positive: list[bool]) -> float:
    """Area under the ROC curve (the Mann-Whitney statistic, ties counted half)."""
    ranked = sorted(zip(scores, positive))
    rank_sum, i, n = 0.0, 0, len(ranked)
    while i < n:
        j = i
        while j < n and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2
        rank_sum += mean_rank * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    n_pos = sum(positive)
    n_neg = n - n_pos
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def counts_for(label: str, mention: dict, *, any_mention: bool = False) -> bool:
    """Whether a classify mention ({"theme", "rule", ...}) is evidence for a v6 label."""
    if mention["theme"] not in LABELS[label]:
        return False
    field = mention["rule"].split("[", 1)[0]
    return any_mention or (mention["theme"], field) not in NOT_EVIDENCE.get(label, set())


def half_f1(gold: list[bool], pred: list[bool], half: int) -> float:
    return prf(gold[half::2], pred[half::2])[2]


def baseline_predicts(text: str, words: list[str]) -> bool:
    return re.search(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", text, re.IGNORECASE) is not None


def run(show_errors: str | None) -> str:
    nhs_path = DATA / "nhs-feedback" / "v6_labelled_neas.csv"
    hospital_path = DATA / "hospital-reviews" / "hospital.csv"
    for path in (nhs_path, hospital_path):
        if not path.exists():
            sys.exit(f"missing {path}: the benchmark reads the shared data folder next to the repository")
    nhs = read_nhs(nhs_path)
    hospital = read_hospital(hospital_path)
    with tempfile.TemporaryDirectory() as tmp:
        nhs_results, nhs_seconds = classify([r["FFT answer"] for r in nhs], Path(tmp), "nhs")
        hospital_results, _ = classify([t for t, _ in hospital], Path(tmp), "hospital")

    lines = [
        f"Themes: {len(nhs)} answered NHS comments (`v6_labelled_neas.csv`), classified in {nhs_seconds:.1f} s "
        f"({len(nhs) / nhs_seconds:.0f} texts/s, one process).",
        "",
        "| v6 label | themes | n | ReviewPulse P | R | F1 | F1 even rows | F1 odd rows | keyword baseline P | R | F1 | target F1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, themes in LABELS.items():
        gold = [r[label].strip() == "1" for r in nhs]
        base = [baseline_predicts(r["FFT answer"], BASELINE_WORDS[label]) for r in nhs]
        bp, br, bf, _ = prf(gold, base)
        variants = [False, True] if label == ANY_MENTION_ROW else [False]
        for any_mention in variants:
            pred = [any(counts_for(label, m, any_mention=any_mention) for m in res["mentions"]) for res in nhs_results]
            p, r, f, n = prf(gold, pred)
            met = "met" if f >= TARGETS[label] else "not met"
            name = f"{label} (any mention)" if any_mention else label
            lines.append(
                f"| {name} | {', '.join(themes)} | {n} | {p:.3f} | {r:.3f} | **{f:.3f}** | {half_f1(gold, pred, 0):.3f} "
                f"| {half_f1(gold, pred, 1):.3f} | {bp:.3f} | {br:.3f} | {bf:.3f} | {TARGETS[label]:.2f} ({met}) |"
            )
            if show_errors == label and not any_mention:
                for row, g, q, res in list(zip(nhs, gold, pred, nhs_results))[::2]:
                    if g != q:
                        rules = [f"{m['theme']}:{m['rule']}" for m in res["mentions"] if m["theme"] in themes]
                        print(("MISSED " if g else "WRONG  ") + " ".join(row["FFT answer"].split())[:220], rules, file=sys.stderr)

    keep = [(res, stars) for res, (_, stars) in zip(hospital_results, hospital) if stars != 3]
    positive = [stars >= 4 for _, stars in keep]
    ours = roc_auc([res["score"] for res, _ in keep], positive)
    vader = roc_auc([res["vader_compound"] for res, _ in keep], positive)
    low = [res for res, stars in keep if stars <= 2]
    complaining = [res for res in low if any(m["polarity"] == "complaint" for m in res["mentions"])]
    clearly_positive = [res for res in complaining if res["score"] >= 0.5]
    vader_positive = [res for res in complaining if res["vader_compound"] >= 0.5]
    labelled = [(res, int(r["Comment sentiment"])) for res, r in zip(nhs_results, nhs) if r["Comment sentiment"].strip() in "1245" and r["Comment sentiment"].strip()]
    nhs_positive = [s <= 2 for _, s in labelled]
    nhs_ours = roc_auc([res["score"] for res, _ in labelled], nhs_positive)
    nhs_vader = roc_auc([res["vader_compound"] for res, _ in labelled], nhs_positive)
    lines += [
        "",
        f"Sentiment: {len(keep)} `hospital.csv` texts with 1-2 or 4-5 stars ({len(low)} with 1-2), scored from the text alone;"
        f" {len(labelled)} NHS comments with a labeller sentiment of 1-2 (positive) or 4-5 (negative).",
        "",
        "| measure | ReviewPulse score | VADER compound |",
        "|---|---:|---:|",
        f"| ROC AUC against stars, hospital.csv | **{ours:.3f}** | {vader:.3f} |",
        f"| ROC AUC against labeller sentiment, NHS | **{nhs_ours:.3f}** | {nhs_vader:.3f} |",
        f"| 1-2 star texts stating a complaint (ReviewPulse finds one: {len(complaining)}) scored >= 0.5 | **{len(clearly_positive)}** | {len(vader_positive)} |",
    ]
    return "\n".join(lines)


def update_readme(figures: str) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    if BEGIN not in text or END not in text:
        sys.exit(f"{README}: no {BEGIN} ... {END} markers; add them to the Quality section first")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{figures}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="write the figures into benchmarks/README.md")
    parser.add_argument("--errors", metavar="LABEL", help="print the misclassified comments of one v6 label")
    args = parser.parse_args()
    if args.errors and args.errors not in LABELS:
        sys.exit(f"--errors: unknown label {args.errors!r}; one of {', '.join(LABELS)}")
    figures = run(args.errors)
    print(figures)
    if args.readme:
        update_readme(figures)


if __name__ == "__main__":
    main()
