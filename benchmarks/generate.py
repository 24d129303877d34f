"""Synthetic review exports of any size for the benchmarks (fictional; deterministic for a seed).

A multi-location medical group ("Harborview Medical Group") receives `n` reviews spread over
`years` years ending on END_DAY. Each review has a theme plan (complaint and praise themes with the
weights seen in studies of online physician reviews), a text written by the demo practice's
phrasebook (`examples/demo/phrasebook.py`) and lengthened to a drawn target (a few words to ~1,000
characters, median ~400), a star rating, an author, creation and edit times, and for about half of
them an owner reply. Details (times, amounts, names, small typos) vary per review, so sentences repeat
about as rarely as in real reviews and a sentence cache cannot make the benchmark unrealistically
cheap. About 5 % of Google reviews are stars without text.

Review `i` depends only on the seed and `i` (its time also on `n`), so the first reviews of a large
corpus are those of a small one. Writers stream: memory stays flat whatever `n`.

    python benchmarks/generate.py --reviews 100000 --format google --format csv --out /tmp/bench

Formats: `google` (Takeout layout: `google/<account>/location-<id>/reviews.json` per location),
`google_zip` (the same folders in one Takeout zip), `gbp_api` (ListReviewsResponse pages of 50
reviews) and `csv` (one platform export, UTF-8, multi-line quoted fields).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import random
import re
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 8
END_DAY = date(2026, 11, 15)  # a Sunday: the newest finished ISO week is 2026-W46
TIMEZONE = "America/New_York"
ACCOUNT = "118204635591027736410"
PRACTICE = "Harborview Medical Group"
REVIEWS_PER_LOCATION = 50_000  # default split of a corpus over locations
MAX_CHARS = 1000
API_PAGE_SIZE = 50
STARS = {1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}
CSV_COLUMNS = ["Review ID", "Location", "Patient Name", "Rating", "Review Date", "Review", "Practice Response",
               "Response Date"]
FORMATS = ("google", "google_zip", "gbp_api", "csv")


def _load_phrasebook():
    path = ROOT / "examples" / "demo" / "phrasebook.py"
    spec = importlib.util.spec_from_file_location("reviewpulse_demo_phrasebook", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered while it executes
    spec.loader.exec_module(module)
    return module


pb = _load_phrasebook()

# Complaint themes by how often patients raise them (service before clinical care; billing 2-12 %).
COMPLAINT_WEIGHTS = {
    "phone_access": 14, "callbacks": 10, "scheduling": 10, "wait_time": 12, "front_desk": 12,
    "provider_manner": 8, "provider_communication": 7, "billing": 7, "insurance": 4, "prescriptions": 4,
    "test_results": 3, "referrals_records": 3, "clinical_quality": 3, "digital_access": 2, "facility": 1,
    "privacy_respect": 1,
}
PRAISE_WEIGHTS = {
    "provider_manner": 20, "provider_communication": 12, "front_desk": 10, "wait_time": 6, "clinical_quality": 6,
    "scheduling": 3, "facility": 3, "digital_access": 1, "test_results": 1, "billing": 1, "phone_access": 1,
    "callbacks": 1,
}
FIRST_NAMES = ("Maria", "James", "Aisha", "Robert", "Linda", "Kevin", "Mei", "Carlos", "Fatima", "David", "Olga",
               "Tyrone", "Priya", "Hannah", "Luis", "Grace", "Ahmed", "Emily", "Noah", "Sofia", "Daniel", "Keiko",
               "Brian", "Chloe", "Samuel", "Yusuf", "Rachel", "Andre", "Nadia", "Peter")
LAST_NAMES = ("Nguyen", "Smith", "Garcia", "Johnson", "Kowalski", "Okafor", "Chen", "Brown", "Haddad", "Miller",
              "Rossi", "Ivanova", "Wilson", "Kim", "Lopez", "Davis", "Singh", "Murphy", "Cohen", "Ali")
PROVIDER_SURNAMES = ("Alvarez", "Bennett", "Carter", "Dubois", "Evans", "Fischer", "Gupta", "Hughes", "Ibrahim",
                     "Jensen", "Kaplan", "Larsen", "Moreno", "Novak", "Ortiz", "Park", "Quinn", "Reyes", "Shah",
                     "Tanaka", "Underwood", "Vance", "Walsh", "Xu", "Young", "Zimmer")
FRONT_NAMES = ("Tasha", "Brenda", "Marcus", "Jolene", "Dev", "Rosa", "Kim", "Alana", "Pete", "Yvonne")
PLACES = ("Harbor", "Bayside", "Elm Street", "Riverside", "Midtown", "Westgate", "Hillcrest", "Lakeshore",
          "Northgate", "Southpoint", "Cedar Park", "Old Town")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
# Theme-free sentences with many slots, so that long reviews are not built from a small closed set.
DETAILS = (
    "My appointment was at {time} on a {weekday} and I got there at {time2}.",
    "I have been seeing {provider} since {month} {year}.",
    "This was visit number {n} for me this year.",
    "I drove about {miles} miles to get here.",
    "We came in for my {relative}'s {visit}.",
    "I had put this off since {month} because of work.",
    "It was a {weekday} {part} appointment, booked {n} weeks ahead.",
    "For context, I am {age} and have {condition}.",
    "My {relative} recommended the {place} office to me back in {year}.",
    "The visit itself took about {minutes2} minutes.",
    "I went back on the {ordinal} of {month} for the follow-up.",
    "Parking cost me ${dollars} for {hours} hours.",
)
RELATIVES = ("mother", "father", "son", "daughter", "husband", "wife", "grandmother", "partner", "brother")
VISITS = ("annual physical", "follow-up", "flu shot", "sports physical", "blood work", "skin check",
          "knee pain", "sinus infection", "well-child visit", "medication review")
CONDITIONS = ("type 2 diabetes", "asthma", "high blood pressure", "two kids under five", "a bad back",
              "migraines", "a thyroid condition", "arthritis", "anxiety")
PRAISE_REPLIES = (
    "Thank you for your kind words, {author}! We are glad you had a good experience at {place}.",
    "Thanks so much for taking the time to share this. We will pass it on to the team.",
    "We appreciate your feedback and look forward to seeing you at your next visit.",
)
COMPLAINT_REPLIES = (
    "{author}, we are sorry to hear about your experience. Please call our patient advocate at 555-01{nn} so we "
    "can look into this.",
    "Thank you for letting us know. We take these concerns seriously and have shared them with the {place} "
    "office manager.",
    "We apologize for the frustration. We are adding staff to our phone lines and would like to hear more; "
    "please reach out to our office.",
)


@dataclass(frozen=True)
class BenchLocation:
    id: str  # configured location id
    name: str
    google_id: str
    cast: object  # phrasebook.Cast


@dataclass(frozen=True)
class SyntheticReview:
    review_id: str
    location: BenchLocation
    author: str | None  # None: an anonymous Google reviewer
    rating: int
    text: str | None
    created_at: datetime
    updated_at: datetime
    reply: str | None
    reply_at: datetime | None
    themes: tuple[tuple[str, str], ...]


def build_locations(count: int) -> list[BenchLocation]:
    """`count` locations, each with its own providers, front desk and billing person."""
    rng = random.Random(f"locations:{count}")
    locations = []
    for k in range(count):
        place = PLACES[k % len(PLACES)] + ("" if k < len(PLACES) else f" {k // len(PLACES) + 1}")
        surnames = rng.sample(PROVIDER_SURNAMES, 2)
        firsts = rng.sample(FIRST_NAMES, 2)
        providers = tuple(pb.Person((f"Dr. {s}", f"Dr. {f} {s}"), generic="the doctor") for s, f in zip(surnames, firsts))
        front = (pb.Person((rng.choice(FRONT_NAMES),), generic="the receptionist"),)
        biller = (pb.Person((rng.choice(FRONT_NAMES),), generic="the billing office"),)
        cast = pb.Cast(place, providers, front, biller, frozenset({place}))
        google_id = str(4_000_000_000_000_000_000 + rng.randrange(10**18))
        locations.append(BenchLocation(f"loc{k + 1:02d}", f"{PRACTICE} - {place}", google_id, cast))
    return locations


def default_locations(n: int) -> int:
    return max(1, min(40, -(-n // REVIEWS_PER_LOCATION)))


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def plan_themes(rng: random.Random) -> list[tuple[str, str]]:
    """A theme plan: most reviews praise, a third complain, some do both; a few carry no theme."""
    roll = rng.random()
    plan: list[tuple[str, str]] = []
    if roll < 0.08:
        return plan
    n_praise = 0 if roll < 0.30 else rng.choices([1, 2, 3], weights=[5, 3, 1])[0]
    n_complaint = rng.choices([1, 2, 3], weights=[5, 3, 1])[0] if roll < 0.30 or roll > 0.82 else 0
    for polarity, count, weights, bank in ((pb.PRAISE, n_praise, PRAISE_WEIGHTS, pb.PRAISE_SENTENCES),
                                           (pb.COMPLAINT, n_complaint, COMPLAINT_WEIGHTS, pb.COMPLAINT_SENTENCES)):
        chosen: list[str] = []
        while len(chosen) < count:
            theme = _weighted(rng, weights)
            if theme not in chosen and theme in bank:
                chosen.append(theme)
        plan.extend((theme, polarity) for theme in chosen)
    return plan


def draw_target_length(rng: random.Random) -> int:
    """Characters to aim at: some one-liners, most a paragraph or three, none over MAX_CHARS."""
    if rng.random() < 0.12:
        return rng.randint(8, 80)
    return int(min(MAX_CHARS, max(90, rng.lognormvariate(5.55, 0.5))))


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _detail(rng: random.Random, loc: BenchLocation) -> str:
    values = {
        "time": f"{rng.randint(7, 16)}:{rng.choice(('00', '15', '30', '45'))}",
        "time2": f"{rng.randint(7, 16)}:{rng.randint(0, 59):02d}",
        "weekday": rng.choice(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")),
        "provider": rng.choice(rng.choice(loc.cast.providers).forms),
        "month": rng.choice(MONTHS), "year": rng.randint(2009, 2026), "n": rng.randint(2, 9),
        "miles": rng.randint(3, 70), "relative": rng.choice(RELATIVES), "visit": rng.choice(VISITS),
        "part": rng.choice(("morning", "afternoon", "lunchtime", "early")), "age": rng.randint(19, 88),
        "condition": rng.choice(CONDITIONS), "place": loc.cast.place, "minutes2": rng.randint(8, 55),
        "ordinal": _ordinal(rng.randint(1, 28)), "dollars": rng.randint(3, 25), "hours": rng.randint(1, 4),
    }
    return rng.choice(DETAILS).format(**values)


PREFIXES = ("Honestly, ", "Also, ", "And ", "Plus, ", "To be fair, ", "Again, ", "Overall, ", "On top of that, ",
            "As usual, ", "This time, ", "Frankly, ", "Like I said, ")
SUFFIXES = (
    ", back in {month}", " last {month}", ", which was my {ordinal} visit", " at the {place} office",
    ", around {time}", " ({n} weeks ago)", ", if I remember right", " this past {weekday}", ", for my {relative}",
    " on the {ordinal}", " in {month} {year}", ", {n} times now", " after {n} years here",
)
_END = re.compile(r"([.!?]+)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!Dr\.)(?<!Mr\.)(?<!Ms\.)(?<!Mrs\.)\s+")


def _vary(rng: random.Random, sentence: str, loc: BenchLocation) -> str:
    """A sentence as one patient might have put it: a lead-in, a time or place, or a slip of the keys."""
    if len(sentence) < 22 or rng.random() < 0.1:
        return _typo(rng, sentence) if rng.random() < 0.1 else sentence
    if rng.random() < 0.35 and sentence[:1].isupper() and not sentence.startswith(("I ", "Dr")):
        sentence = rng.choice(PREFIXES) + sentence[0].lower() + sentence[1:]
    if rng.random() < 0.85 and (end := _END.search(sentence)):
        values = {"month": rng.choice(MONTHS), "weekday": rng.choice(("Monday", "Tuesday", "Wednesday", "Thursday",
                  "Friday")), "ordinal": _ordinal(rng.randint(2, 40)), "place": loc.cast.place,
                  "time": f"{rng.randint(7, 16)}:{rng.randint(0, 59):02d}", "n": rng.randint(2, 12),
                  "relative": rng.choice(RELATIVES), "year": rng.randint(2015, 2026)}
        sentence = sentence[: end.start()] + rng.choice(SUFFIXES).format(**values) + end.group(1)
    if rng.random() < 0.15:
        sentence = _typo(rng, sentence)
    return sentence


def _vary_text(rng: random.Random, text: str, loc: BenchLocation) -> str:
    paragraphs = text.split("\n\n")
    return "\n\n".join(" ".join(_vary(rng, s, loc) for s in _SENTENCE_END.split(p)) for p in paragraphs)


def _typo(rng: random.Random, sentence: str) -> str:
    """One realistic slip: a doubled, dropped or swapped letter in one word."""
    words = sentence.split(" ")
    k = rng.randrange(len(words))
    w = words[k]
    if len(w) < 4 or not w.isalpha():
        return sentence
    j = rng.randrange(1, len(w) - 1)
    kind = rng.random()
    if kind < 0.4:
        w = w[:j] + w[j] + w[j:]
    elif kind < 0.7:
        w = w[:j] + w[j + 1:]
    else:
        w = w[:j - 1] + w[j] + w[j - 1] + w[j + 1:]
    words[k] = w
    return " ".join(words)


def write_text(rng: random.Random, plan: list[tuple[str, str]], loc: BenchLocation) -> tuple[str, int]:
    """The review text for `plan`, lengthened or cut to a drawn target length, and its stars."""
    target = draw_target_length(rng)
    text, stars = pb.compose_review(rng, plan, loc.cast)
    if len(text) < target and plan:
        extra: list[str] = []
        values = pb.draw_values(rng, loc.cast)
        while len(text) + sum(len(s) + 1 for s in extra) < target:
            if rng.random() < 0.45:
                extra.append(_detail(rng, loc))
            else:
                theme, polarity = rng.choice(plan)
                bank = pb.PRAISE_SENTENCES if polarity == pb.PRAISE else pb.COMPLAINT_SENTENCES
                extra.extend(pb.pick_sentences(rng, bank[theme], 1, values))
        if extra:
            cut = rng.randrange(len(extra) + 1)
            text = " ".join([*extra[:cut], text, *extra[cut:]]) if "\n" not in text else (
                " ".join(extra[:cut] + [text]) + ("\n\n" + " ".join(extra[cut:]) if extra[cut:] else ""))
    return _cap(_vary_text(rng, text, loc)), stars


def _cap(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    cut = max(text.rfind(". ", 0, MAX_CHARS), text.rfind("! ", 0, MAX_CHARS))
    return text[: cut + 1] if cut > 40 else text[:MAX_CHARS].rsplit(" ", 1)[0]


def _created(rng: random.Random, i: int, n: int, years: float) -> datetime:
    """Times rise with `i` over the period, with more reviews in recent years (a growing group)."""
    u = (i + rng.random()) / n
    days = years * 365.25 * (u ** 0.7)
    start = datetime.combine(END_DAY, time(23, 59), tzinfo=timezone.utc) - timedelta(days=years * 365.25)
    return (start + timedelta(days=days)).replace(microsecond=0)


def _reply(rng: random.Random, review_text: str | None, stars: int, author: str | None, loc: BenchLocation) -> str:
    bank = PRAISE_REPLIES if stars >= 4 else COMPLAINT_REPLIES
    return rng.choice(bank).format(author=(author or "there").split(" ")[0], place=loc.cast.place,
                                   nn=f"{rng.randint(0, 99):02d}")


def make_review(seed: int, i: int, n: int, locations: list[BenchLocation], years: float = 3.0) -> SyntheticReview:
    """Review number `i` of an `n`-review corpus (depends on seed and i; its time also on n)."""
    rng = random.Random(seed * 1_000_003 + i)
    loc = locations[rng.randrange(len(locations))]
    plan = plan_themes(rng)
    text, stars = write_text(rng, plan, loc)
    if rng.random() < 0.05:
        text = None  # stars only
        stars = rng.choices([5, 4, 3, 2, 1], weights=[12, 3, 1, 1, 3])[0]
        plan = []
    author = None if rng.random() < 0.02 else f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)[0]}."
    created = _created(rng, i, n, years)
    updated = created
    if rng.random() < 0.06:  # edited later: new stars and an update note
        updated = created + timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 1440))
        if text is not None and rng.random() < 0.6:
            text = _cap(text + "\n\nUpdate: " + ("they called and sorted it out." if stars <= 3 else "still happy here."))
            stars = min(5, stars + 1) if stars <= 3 else stars
    reply = reply_at = None
    if rng.random() < (0.65 if stars <= 3 else 0.4):
        reply = _reply(rng, text, stars, author, loc)
        reply_at = updated + timedelta(hours=rng.randint(2, 24 * 14))
    review_id = f"Ci9DQUlRQUNvZENodHljRjlv{seed:x}{i:09d}"
    return SyntheticReview(review_id, loc, author, stars, text, created, updated, reply, reply_at, tuple(plan))


def iter_corpus(n: int, seed: int = SEED, locations: int | None = None, years: float = 3.0) -> Iterator[SyntheticReview]:
    """The `n` reviews of a corpus, in creation order."""
    locs = build_locations(locations or default_locations(n))
    for i in range(n):
        yield make_review(seed, i, n, locs, years)


# -- writers -----------------------------------------------------------------------------------------

def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def google_record(review: SyntheticReview) -> dict:
    """The review as a Google Business Profile review object (Takeout file and API share it)."""
    record: dict = {
        "name": f"accounts/{ACCOUNT}/locations/{review.location.google_id}/reviews/{review.review_id}",
        "reviewId": review.review_id,
        "reviewer": {"displayName": review.author, "isAnonymous": False} if review.author else {"isAnonymous": True},
        "starRating": STARS[review.rating],
        "createTime": _rfc3339(review.created_at),
        "updateTime": _rfc3339(review.updated_at),
    }
    if review.text is not None:
        record["comment"] = review.text
    if review.reply is not None:
        record["reviewReply"] = {"comment": review.reply, "updateTime": _rfc3339(review.reply_at)}
    return record


def _takeout_member(loc: BenchLocation) -> str:
    return f"Takeout/Google Business Profile/account-{ACCOUNT}/location-{loc.google_id}/reviews.json"


def write_google(folder: Path, reviews: Iterator[SyntheticReview], locations: list[BenchLocation]) -> list[Path]:
    """Takeout layout: one streaming `reviews.json` per location; return the files written."""
    files = {}
    paths = []
    for loc in locations:
        path = folder / _takeout_member(loc).removeprefix("Takeout/")
        path.parent.mkdir(parents=True, exist_ok=True)
        files[loc.id] = [path.open("w", encoding="utf-8"), True]
        files[loc.id][0].write('{\n  "reviews": [\n')
        paths.append(path)
    try:
        for review in reviews:
            entry = files[review.location.id]
            entry[0].write(("    " if entry[1] else ",\n    ") + json.dumps(google_record(review), ensure_ascii=False))
            entry[1] = False
    finally:
        for fp, _ in files.values():
            fp.write("\n  ]\n}\n")
            fp.close()
    return paths


def write_google_zip(path: Path, reviews: Iterator[SyntheticReview], locations: list[BenchLocation]) -> list[Path]:
    """One Takeout zip holding the per-location files (built from a temporary Takeout folder)."""
    staging = path.with_suffix(".parts")
    written = write_google(staging, reviews, locations)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in written:
            archive.write(file, "Takeout/" + file.relative_to(staging).as_posix())
            file.unlink()
    for file in sorted(staging.rglob("*"), reverse=True):
        file.rmdir()
    staging.rmdir()
    return [path]


def write_api_pages(folder: Path, reviews: Iterator[SyntheticReview], locations: list[BenchLocation]) -> list[Path]:
    """ListReviewsResponse pages of API_PAGE_SIZE reviews, as a collector saves them, per location."""
    folder.mkdir(parents=True, exist_ok=True)
    pending: dict[str, list[dict]] = {loc.id: [] for loc in locations}
    counters = {loc.id: 0 for loc in locations}
    paths = []

    def flush(loc_id: str, last: bool) -> None:
        counters[loc_id] += 1
        page = {"reviews": pending[loc_id], "averageRating": 4.1, "totalReviewCount": None}
        if not last:
            page["nextPageToken"] = f"{loc_id}-page-{counters[loc_id] + 1}"
        path = folder / f"{loc_id}-page-{counters[loc_id]:06d}.json"
        path.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
        pending[loc_id] = []

    for review in reviews:
        pending[review.location.id].append(google_record(review))
        if len(pending[review.location.id]) >= API_PAGE_SIZE:
            flush(review.location.id, False)
    for loc_id, records in pending.items():
        if records:
            flush(loc_id, True)
    return paths


def write_csv(path: Path, reviews: Iterator[SyntheticReview]) -> list[Path]:
    """A review platform's CSV export: one row per review, location by name, local dates."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fp:
        writer = csv.writer(fp)
        writer.writerow(CSV_COLUMNS)
        for r in reviews:
            writer.writerow([
                r.review_id, r.location.name, r.author or "", r.rating,
                r.created_at.strftime("%Y-%m-%d %H:%M:%S"), r.text or "", r.reply or "",
                r.reply_at.strftime("%Y-%m-%d %H:%M:%S") if r.reply_at else "",
            ])
    return [path]


def write_export(fmt: str, out: Path, n: int, seed: int = SEED, locations: int | None = None) -> list[Path]:
    """Write an `n`-review corpus in format `fmt` under `out`; return the files written."""
    count = locations or default_locations(n)
    locs = build_locations(count)
    reviews = iter_corpus(n, seed, count)
    if fmt == "google":
        return write_google(out / "google", reviews, locs)
    if fmt == "google_zip":
        return write_google_zip(out / "takeout.zip", reviews, locs)
    if fmt == "gbp_api":
        return write_api_pages(out / "gbp_api", reviews, locs)
    if fmt == "csv":
        return write_csv(out / "reviews.csv", reviews)
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


def settings_toml(data_dir: Path, sources: dict[str, Path], locations: int, reports_dir: Path) -> str:
    """A ReviewPulse settings file for the corpus: its locations, staff roster and the given sources."""
    lines = [f'practice = "{PRACTICE}"', f'timezone = "{TIMEZONE}"', f'data_dir = "{data_dir.as_posix()}"', ""]
    locs = build_locations(locations)
    for loc in locs:
        lines += ["[[locations]]", f'id = "{loc.id}"', f'name = "{loc.name}"',
                  f'google_location_ids = ["{loc.google_id}"]', ""]
    for name, path in sources.items():
        lines += ["[[sources]]", f'name = "{name}"', f'type = "{"csv" if name == "csv" else "google"}"',
                  f'path = "{path.as_posix()}"']
        if name == "csv":
            lines += ['platform = "carecompass"', "", "[sources.columns]", 'id = "Review ID"',
                      'location = "Location"', 'author = "Patient Name"', 'rating = "Rating"',
                      'date = "Review Date"', 'text = "Review"', 'reply = "Practice Response"',
                      'reply_date = "Response Date"']
        lines.append("")
    for loc in locs:
        for person in loc.cast.providers:
            surname = person.forms[0].removeprefix("Dr. ")
            full = person.forms[1].removeprefix("Dr. ")
            lines += ["[[staff]]", f'name = "{full}"', f'nicknames = ["Dr. {surname}"]', 'role = "physician"',
                      f'location = "{loc.id}"', ""]
        for person in loc.cast.front_desk:
            lines += ["[[staff]]", f'name = "{person.forms[0]}"', 'role = "front desk"', f'location = "{loc.id}"', ""]
    lines += ["[reports]", f'dir = "{reports_dir.as_posix()}"', ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", "-n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--locations", type=int, default=None, help="default: one per 50,000 reviews")
    parser.add_argument("--format", action="append", choices=FORMATS, dest="formats")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for fmt in args.formats or ["google", "csv"]:
        files = write_export(fmt, args.out, args.reviews, args.seed, args.locations)
        size = sum(f.stat().st_size for f in files)
        print(f"{fmt}: {len(files)} file(s), {size / 1e6:.1f} MB under {args.out}")


if __name__ == "__main__":
    main()
