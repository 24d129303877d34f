"""Composing realistic, entirely fictional patient-review texts from phrase banks.

All phrases were written for ReviewPulse's demo practice; none is taken from a real review. The banks
are module-level data so that other generators (the demo exports, benchmark sets) can reuse them, and
`compose_review()` turns a *theme plan* — a list of `(theme_id, polarity)` pairs using the theme ids of
the product contract — into a review text and a star rating. Every planned theme is expressed by at
least one sentence written for exactly that theme; openers, closers and connectors carry no theme.

The functions are pure apart from drawing from the `random.Random` they are given, so a fixed seed
always gives the same texts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

PRAISE = "praise"
COMPLAINT = "complaint"

STYLES = ("short", "plain", "story", "mixed_but", "four_star", "flat", "polite_long", "rant")


@dataclass(frozen=True)
class Person:
    """A staff member as patients write about them: several spellings and a generic fallback."""

    forms: tuple[str, ...]
    generic: str = "the doctor"


@dataclass(frozen=True)
class Cast:
    """Who a review at one location can name."""

    place: str  # how patients call the location, e.g. "Northside"
    providers: tuple[Person, ...]
    front_desk: tuple[Person, ...]
    billing: tuple[Person, ...] = ()
    proper_nouns: frozenset[str] = field(default_factory=frozenset)


# --- Sentences per theme -------------------------------------------------------------------------
# Placeholders: {provider} {front} {biller} {place} {minutes} {short_minutes} {count} {days} {weeks}
# {amount} {years} {weekday} {time}. Sentences never use a gendered pronoun for a named person, so
# any staff member fits any sentence.

PRAISE_SENTENCES: dict[str, list[str]] = {
    "provider_manner": [
        "{provider} sat down, made eye contact and asked how I was really doing, which no doctor has done in a long time.",
        "When I got emotional talking about my dad, {provider} stopped typing, handed me a tissue and just listened.",
        "{provider} remembered details from my last visit months ago and asked about my new job, which made me feel like a person and not a number.",
        "{provider} is kind, patient and never makes me feel rushed.",
        "{provider} is one of the best I have ever seen.",
        "{provider} treated my mother with so much warmth and respect.",
        "{provider} has a wonderful bedside manner.",
        "I always feel heard when I see {provider}.",
        "{provider} made my anxious teenager feel completely at ease.",
        "{provider} is compassionate and genuinely cares.",
        "You can tell {provider} actually likes people.",
        "Love {provider}!",
        "{provider} is warm, funny and so reassuring.",
    ],
    "provider_communication": [
        "{provider} walked me through what each of my medications does and wrote the schedule down so I would not mix them up.",
        "When I asked about the side effects, {provider} went through them one by one and told me exactly when to call.",
        "{provider} explained why the test was needed and what would happen if it came back abnormal, so there were no surprises.",
        "{provider} took the time to explain my lab results line by line.",
        "{provider} explained everything clearly and answered every one of my questions.",
        "I finally understand my diabetes plan thanks to {provider}.",
        "Every option was explained with the pros and cons, and the decision was left to me.",
        "{provider} listened to the whole story before saying a word.",
        "{provider} drew a little diagram so I could understand what was going on with my knee.",
        "Nothing was rushed; {provider} made sure I knew exactly what to do next.",
        "Great at explaining things in plain English.",
    ],
    "front_desk": [
        "{front} noticed I was confused about my new insurance card and patiently walked me through the forms at check-in.",
        "Everyone at the front desk greeted my kids by name and had us checked in within a couple of minutes.",
        "{front} at the front desk is always so friendly and remembers my name.",
        "The front desk staff are friendly and efficient.",
        "Check-in was quick and the receptionist was lovely.",
        "{front} helped me sort out my paperwork with a smile.",
        "The ladies at the front desk are the sweetest.",
        "{front} went out of the way to squeeze my son in the same afternoon.",
        "Friendly front desk!",
        "The office staff are polite and helpful every single time.",
    ],
    "wait_time": [
        "I was worried about missing work, but I was called back within five minutes of arriving and was back at my desk before lunch.",
        "No wait at all; I was called back right at my appointment time.",
        "I was in and out in under {short_minutes} minutes.",
        "Short wait, which I appreciate with two kids in tow.",
        "They were running right on time.",
        "Barely had time to sit down before they called my name.",
        "No waiting around like at other offices.",
    ],
    "scheduling": [
        "Got a same-day sick visit for my son.",
        "Easy to get an appointment, usually within the week.",
        "They found me a slot the next morning when I called.",
        "Scheduling my follow-up took two minutes at checkout.",
    ],
    "digital_access": [
        "The patient portal is easy to use.",
        "Booked my appointment online in about two minutes.",
        "The video visit worked perfectly and saved me a trip.",
    ],
    "clinical_quality": [
        "{provider} ordered the right tests on the first visit, and the new medication has made a huge difference in my sleep.",
        "After years of back pain, the treatment plan {provider} put together actually worked.",
        "They caught a thyroid problem that two other clinics missed.",
        "My blood pressure is finally under control.",
        "The antibiotics worked and I felt better in two days.",
        "Very thorough exam, nothing was overlooked.",
    ],
    "facility": [
        "The office is clean, bright and easy to park at.",
        "Spotless exam rooms and plenty of parking.",
        "The new {place} building is really nice.",
    ],
    "test_results": [
        "My lab results were posted within two days with a clear note explaining them.",
        "The blood draw was quick and painless.",
    ],
    "billing": [
        "{biller} in the billing office walked me through my statement and fixed a charge right away.",
        "They told me the cost up front, so there were no surprises.",
        "Billing questions were answered quickly and politely.",
    ],
    "phone_access": [
        "Someone actually answers the phone here, which is rare these days.",
        "Calling to book was easy and I spoke to a real person right away.",
    ],
    "callbacks": [
        "The nurse called me back within the hour.",
        "They called back the same afternoon, exactly as promised.",
    ],
    "prescriptions": [
        "Refills are always sent to my pharmacy the same day.",
        "My prescription was at the pharmacy before I even got home.",
    ],
    "insurance": [
        "They handled the prior authorization with my insurance for me.",
        "They checked my coverage before the visit, which I really appreciated.",
    ],
    "referrals_records": [
        "My referral to the dermatologist was sent the same day.",
        "They filled out my school forms in two days.",
    ],
}

COMPLAINT_SENTENCES: dict[str, list[str]] = {
    "phone_access": [
        "I spent most of my lunch break listening to hold music, and by the time someone picked up the same-day appointments were gone.",
        "The recording says to leave a message, and then a second recording says the mailbox is full and hangs up on you.",
        "My mother cannot use the portal, so the phone is her only option, and she has given up trying to get through.",
        "Calling this office is impossible: I sat on hold for {minutes} minutes and then the line just went dead.",
        "Nobody answers the phone. Ever.",
        "The phone rings and rings and then goes to a voicemail box that is full.",
        "I called {count} times on {weekday} morning and never reached a live person.",
        "The phone menu sends you in circles; pressing 2 for appointments takes you right back to the main menu.",
        "I got hung up on twice while waiting on hold.",
        "Trying to reach anyone by phone is a full-time job.",
        "The phone line is a joke, {minutes} minutes on hold to ask a simple question.",
        "You cannot get through on the phone and the voicemail is always full.",
        "It is ridiculous that a medical office cannot answer its own phone.",
    ],
    "callbacks": [
        "The lady on the phone promised the nurse would call me back before 5, so I kept my phone on me all afternoon, and it never rang.",
        "I had a question about a new medication and was told someone would get back to me within 24 hours; it has been over a week.",
        "I have now left messages with three different people and not one of them has called me back.",
        "I left {count} messages about my lab work and nobody ever returned my call.",
        "The nurse line promised a call back the same day. That was {days} days ago.",
        "I was told someone would call me about my referral and I am still waiting.",
        "I sent a portal message and left a voicemail; neither got a response.",
        "The promised call backs never come, so I end up driving over just to ask a question.",
        "Every time I call they say the doctor will get back to me, and then nothing.",
        "They said a nurse would call me before the weekend. Nobody did.",
        "I am still waiting for the call back I was promised last {weekday}.",
    ],
    "billing": [
        "At check-in I was told I had to pay {amount} upfront toward my deductible or they would not see me, even though I had never been asked for that before.",
        "Two months after the visit I got a bill for {amount} with no itemization, and it took four calls to find out what it was for.",
        "They demanded {amount} upfront before I could even be seen, on top of my copay.",
        "I got a surprise bill for {amount} two months later for a visit that was supposed to be covered.",
        "My annual physical was billed as an office visit because I mentioned my knee, which is absurd.",
        "The billing office sent my account to collections while they were still waiting on my insurance.",
        "Being asked for {amount} at check-in with no estimate and no explanation is not okay.",
        "I was billed twice for the same visit and it took months to get it fixed.",
        "Nobody tells you the price until the bill shows up.",
        "They charged a {amount} fee for a form that took five minutes.",
    ],
    "wait_time": [
        "Nobody at the desk could tell us how much longer it would be, and the waiting room was full of people who had been there even longer than we had.",
        "I took half a day off work for a 15-minute visit because I spent over an hour in the waiting room and another 40 minutes in the exam room.",
        "I waited {minutes} minutes past my appointment time in the lobby, then another half hour in the exam room.",
        "My {time} appointment started over an hour late.",
        "The wait is always over an hour, no matter what time you book.",
        "We sat in the waiting room for {minutes} minutes and nobody told us why.",
        "They run way behind and never tell you; I had to leave for school pickup before I was seen.",
        "Waiting this long with a sick toddler was miserable.",
    ],
    "scheduling": [
        "I was told my follow-up needed to be within two weeks, but the scheduler said the first opening with my own doctor was in {weeks} weeks.",
        "The next available appointment was {weeks} weeks out.",
        "They cancelled my appointment the day before and the earliest new slot was a month away.",
        "I was told to come back for a follow-up, but there was nothing open for {weeks} weeks.",
        "My appointment was moved twice without anyone asking me.",
        "I showed up for my appointment and they had no record of it.",
    ],
    "front_desk": [
        "When I asked the receptionist a simple question about my co-pay, she sighed loudly and told me to read the sign.",
        "The receptionist was rude and acted like I was bothering her.",
        "The front desk staff talk to patients like we are an inconvenience.",
        "Check-in was chaotic and the woman at the desk rolled her eyes when I asked a question.",
        "The front desk gave me wrong information about what to bring, twice.",
        "The front desk was short with my elderly father and would not help him with the forms.",
        "{front} at check-in did not even look up from the screen.",
    ],
    "prescriptions": [
        "My refill request sat for a week and the pharmacy never received it.",
        "I had to ask three times to get a simple blood pressure refill sent.",
        "They sent my prescription to the wrong pharmacy, again.",
        "I ran out of my medication because the refill was never approved.",
    ],
    "test_results": [
        "Nobody went over my lab results with me; I found them in the portal with no explanation.",
        "I waited {weeks} weeks for my MRI results and nobody explained them.",
        "The blood work was drawn but the results were never explained to me.",
    ],
    "insurance": [
        "They told me they were in network with my plan, and then the claim was denied as out of network.",
        "They filed the claim under my old insurance even though I handed them my new card.",
        "Nobody verified my insurance before the visit, and now the claim is denied.",
        "The prior authorization for my medication took {weeks} weeks because the forms were never sent.",
    ],
    "digital_access": [
        "The patient portal logs me out every time I try to send a message.",
        "Online booking shows open slots that do not actually exist.",
        "The video visit link never worked; I stared at a waiting screen for twenty minutes.",
        "The portal has been broken for weeks and nobody seems to care.",
    ],
    "provider_manner": [
        "The doctor was dismissive and barely looked at me.",
        "I felt rushed the whole time, like there was somewhere better to be.",
        "{provider} was condescending when I asked about other treatment options.",
    ],
    "provider_communication": [
        "Nobody explained what the new medication was for or what side effects to watch for.",
        "The doctor did not listen to what I was saying and kept typing on the computer.",
        "I left with more questions than I came in with.",
    ],
    "facility": [
        "The parking lot is tiny and always full.",
        "The restroom in the waiting area was dirty.",
        "The entrance is hard to find; the sign is around the back of the building.",
    ],
    "referrals_records": [
        "My referral to cardiology was never sent, and I only found out when the specialist's office called me.",
        "I requested my records {count} times for my new job and still have not received them.",
        "The school form for my daughter took three weeks to be filled out.",
    ],
    "clinical_quality": [
        "They said it was just a virus; urgent care diagnosed pneumonia two days later.",
        "Three visits and I still have no answer for my headaches.",
    ],
    "privacy_respect": [
        "The receptionist read my diagnosis out loud in a full waiting room.",
        "They discussed my test results at the check-out counter where everyone could hear.",
    ],
}

# Complaints stated as bare facts, with no sentiment words at all (the trap for word-based scoring).
FLAT_COMPLAINT_SENTENCES: dict[str, list[str]] = {
    "phone_access": [
        "Called {count} times today. Nobody picked up.",
        "The voicemail box is full, so you cannot leave a message.",
        "On hold for {minutes} minutes, then the call dropped.",
        "Phone rang for ten minutes with no answer.",
        "I called at 8:00, 10:30 and 2:15 and each time it went to the same recording.",
    ],
    "callbacks": [
        "They never call back when they say they will.",
        "Left a message on {weekday}. Still no call back {days} days later.",
        "Was told I would get a call back by end of day. No call.",
        "Left three voicemails for the nurse. None returned.",
    ],
    "billing": [
        "Had to pay {amount} upfront.",
        "The front desk asked for {amount} at check-in before the visit.",
        "Got a bill for {amount} in the mail six weeks after the appointment.",
        "The bill lists a procedure I did not have.",
    ],
    "wait_time": [
        "Arrived at 1:45 for a 2:00 appointment. Seen at 3:25.",
        "Waited {minutes} minutes in the exam room.",
    ],
    "scheduling": [
        "Next opening was {weeks} weeks out.",
        "The office moved my appointment two times.",
    ],
    "prescriptions": [
        "Refill requested {days} days ago. The pharmacy still has nothing.",
    ],
    "test_results": [
        "Blood work done on the 3rd. Still no results {weeks} weeks later.",
    ],
    "insurance": [
        "They billed my old insurance after I gave them the new card.",
    ],
    "referrals_records": [
        "Referral requested in August, still not sent.",
    ],
}

# --- Theme-free connective tissue ----------------------------------------------------------------

OPENERS = [
    "I have been a patient here for {years} years.",
    "Came in for my annual physical.",
    "Brought my daughter in for a sports physical.",
    "First visit here after moving to the area.",
    "I came in for a follow-up on my blood pressure.",
    "My whole family goes to this practice.",
    "I came in with a sinus infection.",
    "This was my second visit at the {place} office.",
    "Took my husband in for his yearly checkup.",
    "I switched here from another clinic last year.",
]
PRAISE_CLOSERS = [
    "Highly recommend!",
    "Would recommend to anyone.",
    "Thank you!",
    "So glad we found this practice.",
    "We will definitely be back.",
    "Thank you all!",
]
NEGATIVE_CLOSERS = [
    "Very disappointed.",
    "I am looking for a new practice.",
    "Do better.",
    "Will not be back.",
    "Save yourself the trouble.",
    "Something has to change.",
]
POLITE_INTROS = [
    "I do not usually write reviews, but I feel I need to share this.",
    "I want to start by saying that I really like this practice.",
    "I have put off writing this for a while because I like the people here.",
]
POLITE_TURNS = ["However,", "That said,", "Unfortunately,", "But lately,"]
POLITE_CLOSERS = [
    "I hope management reads this and makes changes, because the care itself is excellent.",
    "Thank you for reading; I really do want to stay with this practice.",
    "Please fix this. Your patients deserve better, and so does your wonderful staff.",
    "I am sharing this kindly, in the hope that it helps.",
]
MIXED_LEADS = [
    "I would give 5 stars but",
    "Would have been five stars, but",
    "I would give them 5 stars if not for one thing:",
    "The only reason this is not 5 stars:",
    "My only complaint:",
    "One thing needs fixing though:",
]
FOUR_STAR_TURNS = ["But", "Still,", "Only problem:", "The downside is that"]
GENERIC_PRAISE = [
    "Great experience.",
    "Excellent care.",
    "Love this place!",
    "No complaints.",
    "No complaints at all, everything went smoothly.",
    "Everyone was wonderful.",
    "Good visit.",
    "Best practice in town.",
    "Very happy with my visit.",
]
# Context a patient gives before getting to the point; none of it is about a theme.
NARRATIVE = [
    "It was a busy Monday morning.",
    "I had taken the afternoon off work for this.",
    "My son had been running a fever for three days.",
    "We have tried a few practices in town over the years.",
    "I was a little nervous going in.",
    "My mother is 82 and does not drive anymore, so I bring her in.",
    "I work nights, so timing matters a lot to me.",
    "This was about a rash that would not go away.",
    "We moved here from Milwaukee last spring.",
    "I needed a physical for a new job.",
    "I have two kids under five, so every visit is an adventure.",
    "It was pouring rain that day.",
    "I had been putting off this appointment for months, so I was already a bit on edge.",
    "My daughter just started college and needed her vaccine records and a physical before move-in.",
    "I care for my elderly father, so I deal with a lot of doctors' offices and I know how hard this work is.",
]
GENERIC_NEGATIVE = ["Terrible experience.", "Not impressed.", "Really disappointing visit."]
PRAISE_EMOJI = [" 😊", " 👍", " 🙏", " ❤️", " 👏"]
COMPLAINT_EMOJI = [" 😡", " 🙄", " 😤"]

VALUES: dict[str, list[object]] = {
    "minutes": [35, 40, 45, 50, 60, 75, 90],
    "short_minutes": [20, 25, 30, 40],
    "count": [3, 4, 5, 6, "five", "six"],
    "days": [3, 4, 5, 6, 10],
    "weeks": [3, 4, 6, 8, 10],
    "amount": ["$600", "$250", "$180", "$425", "$1,200", "$95", "$340"],
    "years": [2, 3, 5, 8, "ten", 12],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    "time": ["9:00", "10:15", "1:30", "3:45"],
}


def draw_values(rng: random.Random, cast: Cast) -> dict[str, str]:
    """The placeholder values of one review: one provider, front-desk and billing name throughout."""
    values = {key: str(rng.choice(options)) for key, options in VALUES.items()}
    provider = rng.choice(cast.providers)
    values["provider"] = rng.choice(provider.forms) if rng.random() < 0.75 else provider.generic
    front = rng.choice(cast.front_desk)
    values["front"] = rng.choice(front.forms)
    biller = rng.choice(cast.billing) if cast.billing else Person(("Someone",))
    values["biller"] = rng.choice(biller.forms)
    values["place"] = cast.place
    return values


def _fill(template: str, values: dict[str, str]) -> str:
    text = template.format(**values)
    return text[:1].upper() + text[1:]


def _lowercase_start(sentence: str, cast: Cast) -> str:
    """Lower the first letter to continue a sentence after "but", unless it starts a name or "I"."""
    first = sentence.split(" ", 1)[0].rstrip(",.:;")
    if first in ("I", "I'm", "I've", "I'd") or "." in first or first in cast.proper_nouns:
        return sentence
    if any(first in person for person in _names(cast)):
        return sentence
    return sentence[:1].lower() + sentence[1:]


def _names(cast: Cast) -> list[str]:
    return [form for group in (cast.providers, cast.front_desk, cast.billing) for p in group for form in p.forms]


def pick_sentences(rng: random.Random, bank: Sequence[str], n: int, values: dict[str, str]) -> list[str]:
    """`n` distinct sentences from `bank` (fewer when the bank is smaller), with placeholders filled."""
    chosen = rng.sample(list(bank), min(n, len(bank)))
    return [_fill(t, values) for t in chosen]


def _theme_sentences(rng, theme, polarity, values, n=1, flat=False) -> list[str]:
    if polarity == PRAISE:
        bank = PRAISE_SENTENCES[theme]
    elif flat and theme in FLAT_COMPLAINT_SENTENCES:
        bank = FLAT_COMPLAINT_SENTENCES[theme]
    else:
        bank = COMPLAINT_SENTENCES[theme]
    return pick_sentences(rng, bank, n, values)


def choose_style(rng: random.Random, theme_plan: Sequence[tuple[str, str]]) -> str:
    """A writing style that suits the plan: all-praise, all-complaint or mixed."""
    praise = [t for t, p in theme_plan if p == PRAISE]
    complaints = [t for t, p in theme_plan if p == COMPLAINT]
    if not complaints:
        return rng.choices(["short", "plain", "story"], weights=[1, 6, 4])[0]
    if not praise:
        return rng.choices(["short", "plain", "flat", "rant", "polite_long"], weights=[1, 5, 3, 2, 2])[0]
    return rng.choices(["plain", "mixed_but", "four_star", "polite_long"], weights=[3, 4, 2, 2])[0]


def _rating(rng: random.Random, style: str, n_praise: int, n_complaint: int) -> int:
    if style == "four_star":
        return 4
    if style == "mixed_but":
        return rng.choices([4, 3], weights=[3, 2])[0]
    if style == "polite_long":
        return rng.choices([2, 3], weights=[1, 1])[0]
    if style == "rant":
        return 1
    if n_complaint == 0:
        return rng.choices([5, 4], weights=[9, 1])[0]
    if n_praise == 0:
        return rng.choices([1, 2, 3], weights=[11, 7, 2])[0]
    if n_complaint >= n_praise:
        return rng.choices([2, 3, 4], weights=[2, 3, 2])[0]
    return rng.choices([3, 4], weights=[1, 2])[0]


def compose_review(
    rng: random.Random,
    theme_plan: Sequence[tuple[str, str]],
    cast: Cast,
    *,
    style: str | None = None,
    emoji_rate: float = 0.06,
) -> tuple[str, int]:
    """Write one review expressing every `(theme, polarity)` of `theme_plan`; return (text, stars).

    `style` (one of STYLES) is drawn from `rng` when not given. An empty plan gives a short generic
    review ("No complaints.", "Excellent care.") without any theme. Raises ValueError for a theme or
    style the phrase banks do not know.
    """
    praise = [t for t, p in theme_plan if p == PRAISE]
    complaints = [t for t, p in theme_plan if p == COMPLAINT]
    unknown = [(t, p) for t, p in theme_plan
               if t not in {PRAISE: PRAISE_SENTENCES, COMPLAINT: COMPLAINT_SENTENCES}.get(p, {})]
    if unknown:
        raise ValueError(f"no sentences for {unknown} in the theme plan {list(theme_plan)}")
    values = draw_values(rng, cast)
    if not theme_plan:
        text = rng.choice(GENERIC_PRAISE)
        if rng.random() < 0.4:
            text += " " + _fill(rng.choice(PRAISE_CLOSERS), values)
        return _with_emoji(rng, text, PRAISE_EMOJI, emoji_rate), rng.choices([5, 4], weights=[8, 1])[0]
    style = style or choose_style(rng, theme_plan)
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {STYLES}")
    rating = _rating(rng, style, len(praise), len(complaints))

    if style == "short":
        theme, polarity = theme_plan[0]
        text = min(_theme_sentences(rng, theme, polarity, values, n=2, flat=True), key=len)
        bank = PRAISE_EMOJI if polarity == PRAISE else COMPLAINT_EMOJI
        return _with_emoji(rng, text, bank, emoji_rate * 2), 5 if polarity == PRAISE else rng.choice([1, 1, 2])

    per_praise = 2 if style == "story" else rng.choice([1, 2, 2]) if style == "plain" else rng.choice([1, 1, 2])
    per_complaint = 3 if style in ("polite_long", "rant") else rng.choice([1, 2, 2])
    praise_parts = [s for t in praise for s in _theme_sentences(rng, t, PRAISE, values, n=per_praise)]
    groups = [_theme_sentences(rng, t, COMPLAINT, values, n=per_complaint, flat=style == "flat") for t in complaints]
    complaint_parts = [s for g in groups for s in g]
    if style == "flat":
        return " ".join(praise_parts + complaint_parts), rating

    opener = [_fill(rng.choice(OPENERS), values)] if rng.random() < 0.7 else []
    context = pick_sentences(rng, NARRATIVE, rng.choice([0, 1, 1, 2]), values)
    paragraphs: list[list[str]]
    if style == "plain":
        closer_bank = PRAISE_CLOSERS if not complaints else NEGATIVE_CLOSERS if not praise else []
        closer = [_fill(rng.choice(closer_bank), values)] if closer_bank and rng.random() < 0.5 else []
        paragraphs = [opener + context + praise_parts + complaint_parts + closer]
    elif style == "story":
        half = (len(praise_parts) + 1) // 2
        paragraphs = [opener + context + praise_parts[:half],
                      praise_parts[half:] + [_fill(rng.choice(PRAISE_CLOSERS), values)]]
    elif style in ("mixed_but", "four_star"):
        lead = rng.choice(MIXED_LEADS if style == "mixed_but" else FOUR_STAR_TURNS)
        joined = f"{lead} {_lowercase_start(complaint_parts[0], cast)}"
        paragraphs = [(opener if style == "mixed_but" else []) + praise_parts + [joined] + complaint_parts[1:]]
    elif style == "polite_long":
        # Kind words around a complaint are what fools word-based scoring; without planned praise
        # they stay theme-free so the plan's themes remain exact.
        warm = praise_parts or ["Everyone I have met in person has been kind."]
        turn = rng.choice(POLITE_TURNS)
        first = [f"{turn} {_lowercase_start(groups[0][0], cast)}"] + groups[0][1:]
        paragraphs = [[rng.choice(POLITE_INTROS)] + opener + context + warm, first, *groups[1:],
                      [rng.choice(POLITE_CLOSERS)]]
    else:  # rant
        lead = [rng.choice(GENERIC_NEGATIVE)] if rng.random() < 0.5 else []
        paragraphs = [lead + opener + context + groups[0], *groups[1:], [rng.choice(NEGATIVE_CLOSERS)]]
    text = "\n\n".join(" ".join(p) for p in paragraphs if p)
    bank = PRAISE_EMOJI if rating >= 4 else COMPLAINT_EMOJI
    return _with_emoji(rng, text, bank, emoji_rate), rating


def _with_emoji(rng: random.Random, text: str, bank: Sequence[str], rate: float) -> str:
    return text + rng.choice(bank) if rng.random() < rate else text
