-- Operations: every job run of `reviewpulse serve` (and the service itself), and which weekly
-- reports were e-mailed, so `reviewpulse status` can tell whether the practice's service is healthy.

CREATE SEQUENCE job_runs_id_seq START 1;

CREATE TABLE job_runs (
    run_id       BIGINT PRIMARY KEY DEFAULT nextval('job_runs_id_seq'),
    job_id       VARCHAR NOT NULL,      -- collect:<source>, collect:inbox, analyze, report, catch-up, email, serve
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,           -- NULL while running (only the `serve` row stays open)
    status       VARCHAR NOT NULL CHECK (status IN ('ok', 'failed', 'running', 'stopped')),
    duration_s   DOUBLE,
    summary      VARCHAR,               -- one line: the counts, or the error
    next_run_at  TIMESTAMPTZ,           -- the scheduler's next run of this job, as known when it finished
    pid          INTEGER                -- the `serve` process that ran it
);

-- A weekly report is e-mailed once: a row here means the week's page was handed to the mail server.
CREATE TABLE report_emails (
    week_start  DATE PRIMARY KEY,       -- Monday of the ISO week, in the practice's time zone
    iso_week    VARCHAR NOT NULL,       -- e.g. 2026-W46
    page        VARCHAR NOT NULL,       -- the page that was sent
    recipients  VARCHAR NOT NULL,       -- comma-separated
    sent_at     TIMESTAMPTZ NOT NULL
);
