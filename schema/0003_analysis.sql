-- Results of the analysis stage. Every row carries the analyzer_version that produced it, so a
-- change of taxonomy or rules can be re-applied to all history (`reviewpulse analyze --rescore`).
-- Character offsets are 0-based, end-exclusive, into reviews.text.

CREATE TABLE review_sentences (
    review_id        VARCHAR NOT NULL,
    sentence_index   INTEGER NOT NULL,
    char_start       INTEGER NOT NULL,
    char_end         INTEGER NOT NULL,
    vader_compound   DOUBLE,
    score            DOUBLE,              -- ReviewPulse's domain-adjusted sentence score, -1..1
    label            VARCHAR,             -- negative, neutral, positive
    analyzer_version VARCHAR NOT NULL,
    PRIMARY KEY (review_id, sentence_index)
);

CREATE TABLE mentions (
    review_id        VARCHAR NOT NULL,
    sentence_index   INTEGER NOT NULL,
    char_start       INTEGER NOT NULL,    -- span of the evidence (the clause or sentence)
    char_end         INTEGER NOT NULL,
    theme            VARCHAR NOT NULL,    -- a theme id of the taxonomy
    polarity         VARCHAR NOT NULL CHECK (polarity IN ('complaint', 'praise', 'neutral')),
    score            DOUBLE,
    rule             VARCHAR NOT NULL,    -- which pattern or cue fired, for explaining the flag
    analyzer_version VARCHAR NOT NULL
);

CREATE TABLE staff_mentions (
    review_id        VARCHAR NOT NULL,
    staff_name       VARCHAR NOT NULL,    -- roster name, or the title form found ("Dr. Lee")
    role             VARCHAR,
    matched_text     VARCHAR NOT NULL,
    sentence_index   INTEGER NOT NULL,
    char_start       INTEGER NOT NULL,
    char_end         INTEGER NOT NULL,
    polarity         VARCHAR NOT NULL CHECK (polarity IN ('complaint', 'praise', 'neutral')),
    score            DOUBLE,
    analyzer_version VARCHAR NOT NULL
);

CREATE TABLE theme_flags (
    location_id      VARCHAR NOT NULL,    -- a configured location, or '*' for the whole practice
    week_start       DATE NOT NULL,       -- Monday of the ISO week, in the practice's time zone
    iso_week         VARCHAR NOT NULL,    -- e.g. 2026-W46
    theme            VARCHAR NOT NULL,
    complaints       INTEGER NOT NULL,    -- reviews with a complaint mention of the theme that week
    praise           INTEGER NOT NULL,
    baseline         DOUBLE,              -- mean weekly complaints over the baseline window
    p_value          DOUBLE,              -- one-sided Poisson test of complaints against the baseline
    status           VARCHAR CHECK (status IN ('recurring', 'rising', 'new')),  -- NULL: not flagged
    PRIMARY KEY (location_id, week_start, theme)
);
