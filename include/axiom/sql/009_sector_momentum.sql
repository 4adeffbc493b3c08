-- 009: sector momentum per session, kept by the pipelines: price ingestion rewrites it from the first
-- session it loaded (all of it after a re-base), the company graph rewrites all of it (classifications
-- decide the members). Sector rotation used to read every member's closes of 150 days, and for the
-- analogues' outcomes every member's closes from the earliest analogue on; even cut to the sessions
-- the returns need, at 500 synthetic symbols that was 2,500 rows and 12-36 ms for one session. Now it
-- reads one session's eleven rows (the primary key). Filled by the next price_ingestion or
-- company_graph run.
CREATE TABLE IF NOT EXISTS sector_momentum (
    session  date             NOT NULL,
    sector   text             NOT NULL,
    r_1      double precision,
    r_5      double precision,
    r_20     double precision,
    r_60     double precision,
    rs_1     double precision,
    rs_5     double precision,
    rs_20    double precision,
    rs_60    double precision,
    score    double precision,
    members  integer          NOT NULL CHECK (members > 0),
    run_id   bigint           NOT NULL,
    PRIMARY KEY (session, sector)
);
