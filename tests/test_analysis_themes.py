"""Theme mentions in context, sentences and clauses with their offsets."""

from __future__ import annotations

import pytest

from analysis.analyzer import Analyzer
from analysis.sentences import split_clauses, split_sentences
from analysis.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_taxonomy())


def themes(result) -> set[tuple[str, str]]:
    return {(m.theme, m.polarity) for m in result.mentions}


def test_sentences_keep_offsets_and_do_not_split_after_titles():
    text = "Dr. Lee was great.  The wait was long!\nWould I return? Yes"
    spans = split_sentences(text)
    assert [s.text for s in spans] == ["Dr. Lee was great.", "The wait was long!", "Would I return?", "Yes"]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_clauses_split_at_contrast_words():
    text = "The nurse was kind, but the bill was wrong; although parking was easy, it cost $20."
    (sentence,) = split_sentences(text)
    assert [c.text for c in split_clauses(text, sentence)] == [
        "The nurse was kind,", "but the bill was wrong;", "although parking was easy, it cost $20.",
    ]
    lead = "Although the staff were nice, the wait was two hours."
    (sentence,) = split_sentences(lead)
    assert [c.text for c in split_clauses(lead, sentence)] == ["Although the staff were nice,", "the wait was two hours."]


def test_calling_an_ambulance_is_not_phone_access(analyzer):
    result = analyzer.analyze("I called an ambulance for my father and they came within ten minutes.")
    assert not {t for t, _ in themes(result)} & {"phone_access", "callbacks"}


def test_phone_staff_praise_is_phone_or_front_desk_praise(analyzer):
    result = analyzer.analyze("The phone staff were lovely.")
    found = themes(result)
    assert found & {("phone_access", "praise"), ("front_desk", "praise")}
    assert all(polarity == "praise" for _, polarity in found)


def test_unanswered_phones_are_a_phone_access_complaint(analyzer):
    result = analyzer.analyze("It is impossible to get through, the phone just rings and rings.")
    assert ("phone_access", "complaint") in themes(result)


def test_every_mention_names_its_rule_and_points_at_its_clause(analyzer):
    text = "Dr. Ames listened carefully. But the receptionist was rude and I waited two hours."
    result = analyzer.analyze(text, 3)
    assert ("provider_communication", "praise") in themes(result)
    assert ("front_desk", "complaint") in themes(result)
    assert ("wait_time", "complaint") in themes(result)
    for mention in result.mentions:
        assert mention.rule
        evidence = text[mention.start:mention.end]
        assert evidence and evidence in text
    desk = next(m for m in result.mentions if m.theme == "front_desk")
    assert text[desk.start:desk.end] == "But the receptionist was rude and I waited two hours."
    assert desk.sentence_index == 1


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("They charged me twice for the same visit.", "billing"),
        ("The claim was denied because they never verified my insurance.", "insurance"),
        ("My refill was never sent to the pharmacy.", "prescriptions"),
        ("Still have not received my test results after three weeks.", "test_results"),
        ("The referral was never sent to the specialist.", "referrals_records"),
        ("The portal is down again and I cannot log in.", "digital_access"),
        ("The bathroom was filthy.", "facility"),
        ("They discussed my diagnosis out loud in the waiting room.", "privacy_respect"),
        ("They cancelled my appointment the day before.", "scheduling"),
        ("The doctor was dismissive and condescending.", "provider_manner"),
        ("He misdiagnosed my fracture as a sprain.", "clinical_quality"),
        ("The doctor did not explain anything.", "provider_communication"),
    ],
)
def test_each_theme_finds_a_plain_complaint(analyzer, text, theme):
    assert (theme, "complaint") in themes(analyzer.analyze(text))


def theme_ids(result) -> set[str]:
    return {m.theme for m in result.mentions}


@pytest.mark.parametrize(
    "text",
    [
        "I could not get an appointment for three weeks.",
        "The earliest appointment they had was two months away.",
        "They cancelled my appointment the morning of the visit.",
        "My appointment was moved twice without any notice.",
        "The front desk scheduled a follow-up visit for next Tuesday.",
        "They squeezed me in the same day.",
        "No appointments available until March.",
        "I was on hold for twenty minutes just to book a physical.",
        "They never scheduled the follow-up the doctor ordered.",
        "Booking online took two minutes.",
        "She gave me an appointment within the hour.",
        "They got me a new patient appointment quickly.",
    ],
)
def test_arranging_an_appointment_is_scheduling(analyzer, text):
    assert "scheduling" in theme_ids(analyzer.analyze(text))


@pytest.mark.parametrize(
    "text",
    [
        "The driver got me to my appointment on time.",
        "I arrived early for my appointment and read a magazine.",
        "After my appointment the nurse walked me to the lab.",
        "My husband drove me to the appointment.",
        "The receptionist booked me in at the desk and I sat down.",
        "The doctor was running behind schedule.",
        "I could not get to my appointment without a ride.",
    ],
)
def test_going_to_an_appointment_is_not_scheduling(analyzer, text):
    assert "scheduling" not in theme_ids(analyzer.analyze(text))


def test_arranging_problems_are_scheduling_complaints(analyzer):
    assert ("scheduling", "complaint") in themes(analyzer.analyze("They cancelled my appointment twice."))
    assert ("scheduling", "complaint") in themes(analyzer.analyze("There were no appointments for a month."))


STAFF = {"front_desk", "provider_manner"}


@pytest.mark.parametrize(
    "text",
    [
        "The nurse was so nice to my son.",
        "Everyone there was lovely.",
        "They were calm and reassuring the whole time.",
        "The doctor was warm and took her time.",
        "The medical assistant went above and beyond.",
        "Staff were happy to help with my forms.",
        "Dr. Patel is friendly and patient.",
        "I felt judged the moment I walked in.",
        "Very helpfull and kind.",
        "The hygienist kept me calm during the cleaning.",
        "They made me comfortable right away.",
        "Very professional service from start to finish.",
    ],
)
def test_manner_of_a_person_is_staff_manner(analyzer, text):
    assert theme_ids(analyzer.analyze(text)) & STAFF


@pytest.mark.parametrize(
    "text",
    [
        "It was a pleasant drive to the clinic.",
        "The new building is nice.",
        "Reading the leaflet put my mind at ease.",
        "It was cold outside so I waited in the car.",
        "My understanding is that the lab closes at five.",
        "The person I spoke to said the lab was closed.",
        "It was a helpful experience overall.",
        "Nice day for a pleasant ride, both ways.",
    ],
)
def test_generic_praise_without_a_person_is_not_staff_manner(analyzer, text):
    assert not theme_ids(analyzer.analyze(text)) & STAFF


@pytest.mark.parametrize(
    "text",
    [
        "The nurse was helpful to me and my daughter.",
        "She was kind to my mother.",
        "Dr. Kim is personable and thorough.",
        "The doctor treated me with respect.",
        "Staff have no respect for patients.",
    ],
)
def test_a_person_s_helpfulness_kindness_and_respect_are_staff_manner(analyzer, text):
    assert theme_ids(analyzer.analyze(text)) & STAFF


@pytest.mark.parametrize(
    "text",
    [
        "It would be helpful if the office opened earlier.",
        "It is unhelpful to wait without any update.",
        "I have great respect for what doctors do.",
        "All my respect to the people who work in healthcare.",
    ],
)
def test_a_situation_rated_or_the_reviewer_s_own_respect_is_not_staff_manner(analyzer, text):
    assert not theme_ids(analyzer.analyze(text)) & STAFF


def test_a_front_desk_mention_names_its_manner_cue_before_the_role_name(analyzer):
    (manner,) = [m for m in analyzer.analyze("The receptionist was really helpful.").mentions if m.theme == "front_desk"]
    assert manner.rule.startswith("patterns[")
    (role,) = [m for m in analyzer.analyze("The receptionist said the doctor was out.").mentions if m.theme == "front_desk"]
    assert role.rule.startswith("keywords[")


@pytest.mark.parametrize(
    "text",
    [
        "I tried to book with Dr. Lee last week.",
        "They told me to be ready at 7 for my ride to the clinic.",
        "We had to be ready two hours early.",
    ],
)
def test_booking_and_being_told_when_to_be_ready_are_scheduling(analyzer, text):
    assert "scheduling" in theme_ids(analyzer.analyze(text))


@pytest.mark.parametrize(
    "text",
    [
        "I read a book in the lobby.",
        "The refill will be ready tomorrow.",
        "Be ready to answer a lot of questions.",
    ],
)
def test_a_book_to_read_and_a_refill_being_ready_are_not_scheduling(analyzer, text):
    assert "scheduling" not in theme_ids(analyzer.analyze(text))


def test_sensitive_is_manner_only_when_said_of_a_person(analyzer):
    assert theme_ids(analyzer.analyze("The nurse was sensitive to my fears.")) & STAFF
    assert not theme_ids(analyzer.analyze("The automated system is very sensitive to background noise.")) & STAFF
    assert not theme_ids(analyzer.analyze("My teeth are sensitive after the cleaning.")) & STAFF


def test_a_role_named_next_to_a_situation_rating_has_no_manner_cue(analyzer):
    result = analyzer.analyze("The receptionist said it would be helpful if I brought my insurance card.")
    assert [m.rule.split("[")[0] for m in result.mentions if m.theme in STAFF] == ["keywords"]


PHONE = {"phone_access", "callbacks"}


@pytest.mark.parametrize(
    "text",
    [
        "I got cut off twice while on hold.",
        "You sit through a recorded message and five menu options before anything happens.",
        "I waited twenty minutes for someone to pick up.",
        "They picked up the phone immediately.",
        "They answered very quickly.",
    ],
)
def test_the_phone_line_itself_is_phone_access(analyzer, text):
    assert "phone_access" in theme_ids(analyzer.analyze(text))


@pytest.mark.parametrize(
    "text",
    [
        "I picked up my prescription quickly.",
        "I sat waiting to be picked up by my ride for an hour.",
        "Waiting for pick up after my visit took forever.",
        "I had to wait until morning to phone the office.",
        "The doctor cut me off mid-sentence.",
    ],
)
def test_picking_up_things_or_people_and_phoning_later_are_not_phone_access(analyzer, text):
    assert not theme_ids(analyzer.analyze(text)) & PHONE


@pytest.mark.parametrize(
    "text",
    [
        "My daughter booked a taxi to get me to the clinic.",
        "I rang the service to book transport home.",
        "The patient transport was booked by the surgery.",
        "The booking for my transport home was wrong again.",
        "It would help if the booking were confirmed on the day of the pick-up.",
        "Ambulance availability is poor at night.",
        "The booking office staff could be friendlier.",
        "The booking staff were polite.",
    ],
)
def test_booking_a_ride_or_naming_the_booking_staff_is_not_scheduling(analyzer, text):
    assert "scheduling" not in theme_ids(analyzer.analyze(text))


@pytest.mark.parametrize(
    "text",
    [
        "My daughter booked an appointment for me with Dr. Lee.",
        "I rang the office to book a check-up.",
        "The follow-up was booked by the surgery.",
        "Appointment availability is poor at this office.",
        "The booking was cancelled twice without notice.",
        "Booking was quick on the phone.",
        "Booking was easy and the car park is big.",
        "I booked a follow-up and then a taxi home.",
    ],
)
def test_booking_the_visit_itself_is_still_scheduling(analyzer, text):
    assert "scheduling" in theme_ids(analyzer.analyze(text))


@pytest.mark.parametrize(
    "text",
    [
        "I had to call three times for an appointment.",
        "The surgery sent a text about my appointment.",
        "They want you there two hours before the appointment.",
        "Being told to wait in from 3 hours before the pick-up is too much.",
    ],
)
def test_contacting_for_an_appointment_and_hours_ahead_of_it_are_scheduling(analyzer, text):
    assert "scheduling" in theme_ids(analyzer.analyze(text))


@pytest.mark.parametrize(
    "text",
    [
        "The nurse called me in for my appointment right on time.",
        "I got there ten minutes before my appointment.",
        "She phoned my wife for me before the appointment.",
    ],
)
def test_being_called_in_or_arriving_minutes_early_is_not_scheduling(analyzer, text):
    assert "scheduling" not in theme_ids(analyzer.analyze(text))


@pytest.mark.parametrize(
    "text",
    [
        "I lost count of the times I asked the nurse.",
        "I had forgotten the date myself.",
        "My first appointment with Dr. Lee was a bit awkward.",
        "At our next appointment she checked my blood pressure.",
        "I was a new patient, so I was nervous.",
        "The new patients on the ward get a welcome pack.",
        "He should put the text book away and listen.",
        "Staff would not let him read book or paper at night.",
        "Check the red book for her measurements.",
    ],
)
def test_lost_time_visit_counts_new_people_and_books_to_read_are_not_scheduling(analyzer, text):
    assert "scheduling" not in theme_ids(analyzer.analyze(text))


@pytest.mark.parametrize(
    "text",
    [
        "They forgot my follow-up visit.",
        "The first available appointment was on Friday.",
        "The practice is not accepting new patients.",
        "I finally received an appointment.",
        "I booked a physical at the front desk.",
    ],
)
def test_a_forgotten_visit_openings_new_patient_intake_and_a_received_appointment_are_scheduling(analyzer, text):
    assert "scheduling" in theme_ids(analyzer.analyze(text))
