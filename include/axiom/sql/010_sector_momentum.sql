-- 010: sector momentum per session, kept by the pipelines: price ingestion rewrites it from the first
-- session it loaded (all of it after a re-base), the company graph rewrites all of it (classifications
-- decide the members). Sector rotation reads one session's eleven rows instead of every member's closes:
-- at 500 synthetic symbols the members' closes on five sessions were 2,500 rows and 12-36 ms, and the
-- analogues' outcomes read 16 sessions of every member. Filled by the next price_ingestion or
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
