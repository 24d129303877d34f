"""Generate the demo practice's sample exports (fictional; deterministic for a fixed seed).

Riverbend Family Medicine has three locations in America/Chicago. Thirty weeks of reviews end on
Sunday 2026-11-15 (ISO week 2026-W46). Most reviews praise the care; the recurring complaints are
phones nobody answers and call-backs that never come (both rising over the last six weeks at
Northside), payment demanded upfront, and long waits. Writes into `exports/` beside this file:

- `google/takeout-2026-11-16.zip`: a Google Takeout of the Business Profile, one `reviews.json` per
  location; the Downtown location also appears under a second account (same review ids).
- `google/api-2026-09-01.json`: an older API `ListReviewsResponse` page for Northside, in which a few
  reviews still have the text or rating they had before their authors edited them.
- `reviews-platform.csv`: a review platform's CSV export (UTF-8 BOM, CRLF, multi-line fields).

Run `python examples/demo/generate.py` to rewrite the files, `--check` to verify that the committed
files are exactly what the generator produces. Texts come from `phrasebook.py`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from phrasebook import COMPLAINT, PRAISE, Cast, Person, compose_review

SEED = 20261115
ZONE = ZoneInfo("America/Chicago")
LAST_DAY = date(2026, 11, 15)  # a Sunday: ISO week 2026-W46 is the newest finished week
WEEKS = 30
RISING_WEEKS = 6
# Northside's Google reviews about phones and call-backs in each of the last RISING_WEEKS weeks.
RISING_QUOTAS = {"phone_access": (1, 2, 2, 3, 4, 5), "callbacks": (0, 1, 2, 2, 3, 4)}
FIRST_DAY = LAST_DAY - timedelta(weeks=WEEKS) + timedelta(days=1)
TAKEOUT_AT = datetime(2026, 11, 16, 15, 0, tzinfo=timezone.utc)
API_PAGE_AT = datetime(2026, 9, 1, 14, 0, tzinfo=timezone.utc)
ACCOUNT = "107359215486330918224"
SECOND_ACCOUNT = "112874503391766205518"  # the Downtown listing was also claimed by a second account
HERE = Path(__file__).resolve().parent
TOM = Person(("Tom",), generic="the billing office")


@dataclass(frozen=True)
class DemoLocation:
    id: str
    name: str
    google_id: str
    csv_labels: tuple[str, ...]  # how the review platform spells the location
    cast: Cast
    weekly: tuple[int, int]  # Google reviews per week (min, max)


LOCATIONS = (
    DemoLocation(
        "downtown",
        "Riverbend Family Medicine - Downtown",
        "4829175310458826501",
        ("Riverbend Family Medicine - Downtown", "Downtown Clinic", "Riverbend FM Downtown"),
        Cast(
            "Downtown",
            (Person(("Dr. Patel", "Dr. Priya Patel", "Dr. Priya", "Dr. P")), Person(("Dr. Brooks", "Dr. Hannah Brooks"))),
            (Person(("Keisha", "Ms. Keisha")),),
            (TOM,),
        ),
        (4, 6),
    ),
    DemoLocation(
        "northside",
        "Riverbend Family Medicine - Northside",
        "9157730264811902374",
        ("Riverbend Family Medicine - Northside", "Northside Clinic", "Riverbend FM - North"),
        Cast(
            "Northside",
            (Person(("Dr. Lee", "Dr. Marcus Lee", "Dr. Marcus")), Person(("Dr. Okafor", "Dr. Samuel Okafor"))),
            (Person(("Maria", "Ms. Maria")),),
            (TOM,),
        ),
        (3, 5),
    ),
    DemoLocation(
        "lakeview",
        "Riverbend Family Medicine - Lakeview",
        "6603918847215530917",
        ("Riverbend Family Medicine - Lakeview", "Lakeview Clinic", "Riverbend FM Lakeview"),
        Cast(
            "Lakeview",
            (
                Person(("Jenna Ortiz", "Jenna", "Jenna Ortiz, NP"), generic="the nurse practitioner"),
                Person(("Dr. Patel", "Dr. Priya Patel")),
            ),
            (Person(("Dana",)),),
            (TOM,),
        ),
        (3, 5),
    ),
)
BY_ID = {loc.id: loc for loc in LOCATIONS}

# How often each theme is the "other" complaint or a praise point; phones and call-backs are drawn
# separately because their rate changes over time.
OTHER_COMPLAINTS = {
    "wait_time": 20, "billing": 16, "scheduling": 10, "front_desk": 8, "prescriptions": 6, "test_results": 6,
    "insurance": 6, "digital_access": 5, "provider_manner": 3, "provider_communication": 3, "facility": 2,
    "referrals_records": 3, "clinical_quality": 2, "privacy_respect": 1,
}
PRAISE_POINTS = {
    "provider_manner": 30, "provider_communication": 20, "front_desk": 15, "wait_time": 12, "clinical_quality": 8,
    "scheduling": 6, "facility": 4, "digital_access": 3, "test_results": 3, "billing": 2, "prescriptions": 2,
    "phone_access": 1, "callbacks": 1, "insurance": 1, "referrals_records": 1,
}

FIRST_NAMES = (
    "Jordan Linda Marcus Tanya Robert Aisha Kevin Maribel Donna Luis Heather Terrence Grace Owen Fatima Brian "
    "Shannon Dmitri Carla Wesley Nicole Andre Paula Greg Yolanda Ethan Monique Raymond Leah Victor Brenda Samir "
    "Courtney Hector Janet Tyler Denise Chris Rosa Malik Erin Frank Latoya Dylan Megan Omar Sandra Cody Ines Phil"
).split()
LAST_NAMES = (
    "Kowalski Jefferson Nguyen Hart Alvarez Simmons Brennan Okonjo Castillo Fischer Patterson Morales Lindqvist "
    "Washington Haddad Price Romero Delaney Kim Sutton Abernathy Vance Holloway Becker Ruiz Thornton Mendez"
).split()

PRAISE_REPLIES = (
    "Thank you, {first}! We are so glad you had a good visit. - The Riverbend Family Medicine team",
    "{first}, thank you for taking the time to share this. We will pass your kind words along to the team!",
    "We appreciate you, {first}! See you at your next visit.",
    "Thank you for the wonderful review, {first}. Comments like yours make our day.",
    "Thanks so much, {first}. It is a pleasure taking care of you and your family.",
)
COMPLAINT_REPLIES = (
    "{first}, we are sorry to hear about your experience. Please call our practice manager, Angela Reyes, "
    "at (312) 555-0147 so we can look into this.",
    "Thank you for letting us know, {first}. This is not the experience we want for our patients, and our "
    "office manager will reach out to you.",
    "We apologize, {first}. We have shared your feedback with the {place} team and would welcome the chance "
    "to make it right; please call (312) 555-0147.",
)
MIXED_REPLIES = (
    "Thank you for the kind words, {first}, and for telling us what we can do better. We have shared your "
    "feedback with our office manager.",
    "{first}, we are glad the visit itself went well, and we are sorry about the rest. We are working on it!",
)
PHONE_REPLY = (
    "{first}, we hear you about the phones and we are sorry. We are adding staff to the {place} phone line "
    "and you can always send us a message through the patient portal."
)


@dataclass(frozen=True)
class DemoReview:
    """One fictional review as the demo's exports show it (times are UTC)."""

    review_id: str
    channel: str  # "google" or "csv"
    location_id: str
    author: str | None  # None: an anonymous Google reviewer
    rating: int
    text: str | None  # None: a star-only Google review
    created: datetime
    updated: datetime
    reply_text: str | None = None
    reply_at: datetime | None = None
    # What the review said before its author edited it: (text, rating, reply_text, updated).
    before_edit: tuple[str | None, int, str | None, datetime] | None = None
    # The (theme, polarity) plan the text was written from: the ground truth of what it says.
    themes: tuple[tuple[str, str], ...] = ()


def plan_review(rng: random.Random, location_id: str, forced: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """The themes of one review at `location_id`.

    Phones and call-backs are complained about now and then; `forced` (used for the rising weeks)
    replaces that draw with the given complaint themes.
    """
    plan: list[tuple[str, str]] = []
    if forced is not None:
        plan.extend((theme, COMPLAINT) for theme in forced)
    else:
        if rng.random() < 0.04:
            plan.append(("phone_access", COMPLAINT))
        if rng.random() < 0.03:
            plan.append(("callbacks", COMPLAINT))
    other = 0.22 + (0.06 if location_id == "downtown" else 0.0)
    if rng.random() < other:
        weights = dict(OTHER_COMPLAINTS)
        if location_id == "downtown":
            weights["billing"] *= 2  # payment demanded upfront recurs at Downtown
        plan.append((_weighted(rng, weights), COMPLAINT))
    complained = {t for t, _ in plan}
    n_praise = rng.choices([0, 1, 2], weights=[5, 5, 1])[0] if plan else rng.choices([0, 1, 2, 3], weights=[1, 4, 5, 2])[0]
    for _ in range(n_praise):
        choices = {t: w for t, w in PRAISE_POINTS.items() if t not in complained}
        theme = _weighted(rng, choices)
        complained.add(theme)
        plan.insert(len([p for p in plan if p[1] == PRAISE]), (theme, PRAISE))
    return [p for p in plan if p[1] == PRAISE] + [p for p in plan if p[1] == COMPLAINT]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    names = sorted(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def draw_time(rng: random.Random, week: int) -> datetime:
    """A plausible local time of day in week `week`, returned in UTC."""
    day = FIRST_DAY + timedelta(weeks=week, days=rng.randrange(7))
    hour = rng.choices(range(7, 23), weights=[2, 3, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 5, 4, 2])[0]
    local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
                     rng.randrange(1000) * 1000, tzinfo=ZONE)
    return local.astimezone(timezone.utc)


def draw_author(rng: random.Random) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return f"{first} {last}" if rng.random() < 0.6 else f"{first} {last[0]}."


def google_id(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "ChZDSUhNMG9nS0VJ" + "".join(rng.choice(alphabet) for _ in range(22))


def draw_reply(rng: random.Random, review: DemoReview, plan: list[tuple[str, str]], week: int) -> DemoReview:
    """Give the review an owner reply with a probability that is higher for older reviews."""
    if review.author is None:
        return review
    complaint = any(p == COMPLAINT for _, p in plan) or review.rating <= 3
    age = WEEKS - 1 - week
    chance = 0.42 if age >= 10 else 0.30 if age >= RISING_WEEKS else 0.14
    if complaint and review.location_id == "northside" and age < RISING_WEEKS:
        chance = 0.06  # the recent Northside complaints mostly wait for a reply
    if rng.random() >= chance:
        return review
    first = review.author.split()[0]
    place = BY_ID[review.location_id].cast.place
    themes = {t for t, p in plan if p == COMPLAINT}
    if themes & {"phone_access", "callbacks"}:
        template = PHONE_REPLY
    elif complaint and review.rating <= 3:
        template = rng.choice(COMPLAINT_REPLIES)
    elif complaint:
        template = rng.choice(MIXED_REPLIES)
    else:
        template = rng.choice(PRAISE_REPLIES)
    reply_at = review.created + timedelta(hours=rng.randrange(5, 6 * 24))
    if reply_at >= TAKEOUT_AT:
        return review
    return replace(review, reply_text=template.format(first=first, place=place), reply_at=reply_at)


def build_reviews(rng: random.Random) -> list[DemoReview]:
    """Every review of the demo, Google and review-platform, oldest first."""
    reviews: list[DemoReview] = []
    csv_number = 48211
    for week in range(WEEKS):
        for loc in LOCATIONS:
            count = rng.randint(*loc.weekly)
            forced: list[list[str]] | None = None
            rising = week - (WEEKS - RISING_WEEKS)
            if loc.id == "northside" and rising >= 0:
                count += rng.randint(2, 4)
                forced = [[] for _ in range(count)]
                for theme, quotas in RISING_QUOTAS.items():
                    for index in sorted(rng.sample(range(count), min(count, quotas[rising]))):
                        forced[index].append(theme)
            for index in range(count):
                reviews.append(_make_review(rng, "google", google_id(rng), loc, week, forced[index] if forced else None))
        for _ in range(rng.randint(4, 6)):
            loc = rng.choices(LOCATIONS, weights=[4, 3, 3])[0]
            csv_number += rng.randint(1, 40)
            reviews.append(_make_review(rng, "csv", f"RV-{csv_number}", loc, week))
    reviews.extend(build_special_reviews(rng))
    return sorted(reviews, key=lambda r: r.created)


def _make_review(
    rng: random.Random, channel: str, review_id: str, loc: DemoLocation, week: int, forced: Sequence[str] | None = None
) -> DemoReview:
    plan = plan_review(rng, loc.id, forced)
    text, rating = compose_review(rng, plan, loc.cast)
    if channel == "google" and rng.random() < 0.08:
        text = None  # star-only
    author = None if channel == "google" and rng.random() < 0.03 else draw_author(rng)
    created = draw_time(rng, week)
    review = DemoReview(review_id, channel, loc.id, author, rating, text, created, created, themes=tuple(plan))
    return draw_reply(rng, review, plan, week)


def build_special_reviews(rng: random.Random) -> list[DemoReview]:
    """Hand-written reviews that exercise particular paths: edits, translation, markup in text."""

    def at(week: int, day: int, hour: int, minute: int) -> datetime:
        d = FIRST_DAY + timedelta(weeks=week, days=day)
        return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZONE).astimezone(timezone.utc)

    first_text = "Dr. Lee is thorough and kind, and Ms. Maria at the front desk is a gem."
    billing_text = (
        "Had to pay $450 upfront for my annual physical, which should be covered at 100% under my plan. "
        "Nobody could tell me why."
    )
    billing_reply = (
        "Luis, we are sorry for the confusion. Tom in our billing office will call you this week to review "
        "the charge."
    )
    wait_text = "Waited 50 minutes past my appointment time. Dr. Okafor was great once I got in."
    return [
        DemoReview(
            google_id(rng), "google", "northside", "Gloria Haddad", 2,
            first_text + "\n\nUpdate: lowering my rating. I have been trying to get my lab results for two "
            "weeks. Nobody answers the phone, the voicemail is full, and the nurse never called back like "
            "she promised.",
            at(12, 1, 10, 12), at(27, 2, 16, 40),
            before_edit=(first_text, 5, None, at(12, 1, 10, 12)),
            themes=(("provider_manner", PRAISE), ("front_desk", PRAISE), ("test_results", COMPLAINT),
                    ("phone_access", COMPLAINT), ("callbacks", COMPLAINT)),
        ),
        DemoReview(
            google_id(rng), "google", "northside", "Luis Castillo", 4,
            billing_text + "\n\nEdit: Tom from the billing office called me back, explained the mix-up and "
            "refunded the charge. Raising this to 4 stars.",
            at(15, 3, 18, 5), at(24, 0, 9, 30),
            billing_reply, at(15, 4, 11, 0),
            before_edit=(billing_text, 2, billing_reply, at(15, 3, 18, 5)),
            themes=(("billing", COMPLAINT), ("billing", PRAISE), ("callbacks", PRAISE)),
        ),
        DemoReview(
            google_id(rng), "google", "northside", "Tanya W.", 2, wait_text,
            at(17, 2, 13, 47), at(25, 5, 20, 3),
            before_edit=(wait_text, 3, None, at(17, 2, 13, 47)),
            themes=(("provider_manner", PRAISE), ("wait_time", COMPLAINT)),
        ),
        DemoReview(
            google_id(rng), "google", "lakeview", "Maribel Romero", 5,
            "(Translated by Google) Jenna was very patient with my mother and explained everything to us in "
            "Spanish. The receptionist also helped us with the forms. We are very grateful.\n\n(Original)\n"
            "Jenna fue muy paciente con mi mamá y nos explicó todo en español. La recepcionista también nos "
            "ayudó con los formularios. Estamos muy agradecidos. 🙏",
            at(20, 1, 15, 20), at(20, 1, 15, 20),
            "¡Muchas gracias, Maribel! Thank you for your kind words.", at(20, 3, 9, 5),
            themes=(("provider_manner", PRAISE), ("provider_communication", PRAISE), ("front_desk", PRAISE)),
        ),
        DemoReview(
            google_id(rng), "google", "northside", "Derek P.", 2,
            "Tried to book online because nobody answers the phone, and the booking page only showed a line "
            "of code: <script>alert(1)</script> and nothing else. Ended up driving over to make the "
            "appointment in person.",
            at(27, 3, 12, 9), at(27, 3, 12, 9),
            themes=(("phone_access", COMPLAINT), ("digital_access", COMPLAINT)),
        ),
    ]


# --- Writers -------------------------------------------------------------------------------------

STARS = {1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def google_record(review: DemoReview, account: str, *, as_of: datetime | None = None) -> dict:
    """The review as Google shows it, at `as_of` (default: now, i.e. the latest version)."""
    text, rating, reply, updated, reply_at = review.text, review.rating, review.reply_text, review.updated, review.reply_at
    if as_of is not None and review.before_edit is not None and review.updated > as_of:
        text, rating, reply, updated = review.before_edit
    if as_of is not None and reply_at is not None and reply_at > as_of:
        reply = None
    location = BY_ID[review.location_id].google_id
    record: dict = {
        "name": f"accounts/{account}/locations/{location}/reviews/{review.review_id}",
        "reviewId": review.review_id,
        "reviewer": {"displayName": review.author or "A Google user", "isAnonymous": review.author is None},
        "starRating": STARS[rating],
    }
    if text is not None:
        record["comment"] = text
    record["createTime"] = rfc3339(review.created)
    record["updateTime"] = rfc3339(updated)
    if reply is not None and reply_at is not None:
        record["reviewReply"] = {"comment": reply, "updateTime": rfc3339(reply_at)}
    return record


def _dump(document: dict) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_takeout(path: Path, reviews: list[DemoReview]) -> None:
    """A Takeout zip with one reviews.json per location (newest first), members in a fixed order."""
    members: dict[str, bytes] = {}
    google = [r for r in reviews if r.channel == "google"]
    for loc in LOCATIONS:
        mine = sorted((r for r in google if r.location_id == loc.id), key=lambda r: r.created, reverse=True)
        folder = f"Takeout/Google Business Profile/account-{ACCOUNT}/location-{loc.google_id}"
        members[f"{folder}/reviews.json"] = _dump({"reviews": [google_record(r, ACCOUNT) for r in mine]})
        if loc.id == "downtown":
            twin = f"Takeout/Google Business Profile/account-{SECOND_ACCOUNT}/location-{loc.google_id}"
            members[f"{twin}/reviews.json"] = _dump({"reviews": [google_record(r, SECOND_ACCOUNT) for r in mine]})
    members["Takeout/archive_browser.html"] = (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Archive overview</title></head>"
        "<body><h1>Archive overview</h1><p>Google Business Profile: 4 files</p></body></html>\n"
    ).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = TAKEOUT_AT.astimezone(ZONE).timetuple()[:6]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name])


def write_api_page(path: Path, reviews: list[DemoReview], location_id: str, as_of: datetime) -> None:
    """One ListReviewsResponse page of `location_id` as the API returned it at `as_of`."""
    mine = [r for r in reviews if r.channel == "google" and r.location_id == location_id and r.created < as_of]
    records = sorted((google_record(r, ACCOUNT, as_of=as_of) for r in mine), key=lambda d: d["updateTime"], reverse=True)
    number = {word: n for n, word in STARS.items()}
    stars = [number[d["starRating"]] for d in records]
    document = {
        "reviews": records,
        "averageRating": round(sum(stars) / len(stars), 1),
        "totalReviewCount": len(records),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_dump(document))


CSV_HEADER = ["Review ID", "Location", "Patient Name", "Rating", "Review Date", "Review", "Practice Response", "Response Date"]


def local_stamp(moment: datetime) -> str:
    """`11/03/2026 2:15 PM` in the practice's time zone, as the platform exports it."""
    local = moment.astimezone(ZONE)
    return f"{local:%m/%d/%Y} {local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def write_csv(path: Path, reviews: list[DemoReview], rng: random.Random) -> None:
    """The platform's CSV: newest first, UTF-8 with BOM, CRLF everywhere, paragraphs inside quotes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_HEADER)
    for review in sorted((r for r in reviews if r.channel == "csv"), key=lambda r: r.created, reverse=True):
        label = rng.choice(BY_ID[review.location_id].csv_labels)
        writer.writerow([
            review.review_id,
            label,
            review.author or "",
            str(review.rating),
            local_stamp(review.created),
            (review.text or "").replace("\n", "\r\n"),
            review.reply_text or "",
            local_stamp(review.reply_at) if review.reply_at else "",
        ])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))


def write_exports(out: Path, seed: int = SEED) -> list[Path]:
    """Generate every demo export below `out`; return the files written."""
    rng = random.Random(seed)
    reviews = build_reviews(rng)
    takeout = out / "google" / "takeout-2026-11-16.zip"
    api_page = out / "google" / "api-2026-09-01.json"
    platform = out / "reviews-platform.csv"
    write_takeout(takeout, reviews)
    write_api_page(api_page, reviews, "northside", API_PAGE_AT)
    write_csv(platform, reviews, random.Random(seed + 1))
    return [takeout, api_page, platform]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "exports", help="folder to write (default: exports/ beside this file)")
    parser.add_argument("--check", action="store_true", help="only verify that the files in --out are up to date")
    args = parser.parse_args(argv)
    if not args.check:
        for path in write_exports(args.out):
            print(path)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = write_exports(Path(tmp))
        stale = [p.relative_to(tmp) for p in fresh
                 if not (args.out / p.relative_to(tmp)).is_file()
                 or (args.out / p.relative_to(tmp)).read_bytes() != p.read_bytes()]
    if stale:
        print(f"out of date in {args.out}: {', '.join(map(str, stale))}; run generate.py", file=sys.stderr)
        return 1
    print(f"{args.out}: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
