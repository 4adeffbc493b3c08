"""The Claude analyst through the real anthropic SDK, against a fake HTTP transport.

Only the Anthropic API is faked, at its HTTP boundary: requests go through the SDK's own
client, retries and parsing. Answers are cached in the real ledger; what is stored is asserted.
"""

from __future__ import annotations

import json
import logging

import pytest

from axiom.analysts.judge import Judge
from axiom.analysts.rules import RuleBasedAnalyst
from axiom.models import EventInput
from tests.support import OVERLOADED, UNIVERSE, FakeAnthropic, message, tool_use

EVENT = EventInput(
    title="FOMC raises the federal funds rate by 75 basis points", source="fomc", facts={"change_bp": 75}
)


RATE_LIMITED = (429, {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}})


def stored(pg):
    return pg.execute(
        "SELECT task, analyst, model, output, input_tokens FROM analyst_judgement ORDER BY created_at"
    ).fetchall()


def test_a_valid_answer_is_checked_stored_and_then_read_from_the_cache(clean_stores, pg):
    answer = {"event_type": "fed_decision", "impact": 0.9, "sentiment": -0.6, "rationale": "a 75 bp hike"}
    fake = FakeAnthropic((200, message([tool_use("classify_event", answer)])))
    judge = Judge(pg, fake.analyst(), RuleBasedAnalyst())

    [judgement] = judge.classify_events([EVENT])
    assert (judgement.analyst, judgement.value.event_type, judgement.value.impact) == ("claude", "fed_decision", 0.9)
    request = fake.requests[0]
    assert request["tool_choice"] == {"type": "tool", "name": "classify_event"}
    assert json.loads(request["messages"][0]["content"])["event"]["title"] == EVENT.title  # data as JSON
    assert stored(pg) == [("classify_event", "claude", "claude-test", answer, 120)]

    again = Judge(pg, fake.analyst(), RuleBasedAnalyst())
    assert again.classify_events([EVENT])[0].value == judgement.value
    assert len(fake.requests) == 1 and again.stats["cache_hits"] == 1 and again.stats["analyst_calls"] == 0


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            message([{"type": "text", "text": '{"event_type": "fed_decision", "impact": 0.9'}], "end_turn"),
            "malformed answer: no classify_event call",
        ),
        (message([], "refusal"), "Claude refused"),
        (
            message(
                [tool_use("classify_event", {"event_type": "rumour", "impact": 2, "sentiment": 0, "rationale": "x"})]
            ),
            "event_type 'rumour' is not one of",
        ),
    ],
    ids=["malformed-json", "refusal", "out-of-range"],
)
def test_an_invalid_answer_is_rejected_with_its_reason_and_never_stored(clean_stores, pg, caplog, reply, reason):
    fake = FakeAnthropic((200, reply))
    judge = Judge(pg, fake.analyst(), RuleBasedAnalyst())
    with caplog.at_level(logging.WARNING):
        [judgement] = judge.classify_events([EVENT])
    assert reason in caplog.text
    assert judgement.analyst == "rules"  # the fallback answered
    assert [(row[0], row[1]) for row in stored(pg)] == [("classify_event", "rules")]


def test_an_unknown_competitor_symbol_is_rejected(clean_stores, pg, caplog):
    reply = message(
        [
            tool_use(
                "name_competitors",
                {
                    "competitors": [
                        {"symbol": "CVX", "intensity": 0.9, "rationale": "integrated peers"},
                        {"symbol": "SHEL", "intensity": 0.8, "rationale": "not in the universe"},
                    ]
                },
            )
        ]
    )
    fake = FakeAnthropic((200, reply))
    judge = Judge(pg, fake.analyst(), RuleBasedAnalyst())
    with caplog.at_level(logging.WARNING):
        [judgement] = judge.competitors([UNIVERSE[0]], UNIVERSE)
    assert "competitor 'SHEL' is not in the universe" in caplog.text
    assert judgement.analyst == "rules" and next(c.symbol for c in judgement.value) == "CVX"
    assert {row[1] for row in stored(pg)} == {"rules"}


def test_429_is_retried_then_the_answer_is_kept(clean_stores, pg):
    answer = {"competitors": [{"symbol": "CVX", "intensity": 0.9, "rationale": "integrated oil peers"}]}
    fake = FakeAnthropic(RATE_LIMITED, (200, message([tool_use("name_competitors", answer)])))
    judge = Judge(pg, fake.analyst(), RuleBasedAnalyst())
    [judgement] = judge.competitors([UNIVERSE[0]], UNIVERSE)
    assert len(fake.requests) == 2
    assert judgement.analyst == "claude" and [(c.symbol, c.intensity) for c in judgement.value] == [("CVX", 0.9)]
    assert [(row[1], row[3]) for row in stored(pg)] == [
        ("claude", [{"symbol": "CVX", "intensity": 0.9, "rationale": "integrated oil peers"}])
    ]


def test_repeated_529_ends_in_the_rule_based_fallback_with_the_reason_logged(clean_stores, pg, caplog):
    fake = FakeAnthropic(OVERLOADED)
    judge = Judge(pg, fake.analyst(max_retries=2), RuleBasedAnalyst())
    with caplog.at_level(logging.WARNING):
        [judgement] = judge.classify_events([EVENT])
    assert len(fake.requests) == 3  # the first try and two retries
    assert "Claude call failed after retries: OverloadedError" in caplog.text
    assert "falling back to rules" in caplog.text
    assert (judgement.analyst, judgement.value.event_type) == ("rules", "fed_decision")
    assert judge.stats == {"analyst_calls": 2, "cache_hits": 0, "rejected_answers": 1, "fallbacks": 1}
    assert [(row[1], row[2]) for row in stored(pg)] == [("rules", "rules")]


def test_an_outage_trips_the_breaker_instead_of_retrying_every_item(clean_stores, pg):
    fake = FakeAnthropic(OVERLOADED)
    events = [EventInput(title=f"Headline {i}", source="news") for i in range(6)]
    judge = Judge(pg, fake.analyst(max_retries=0), RuleBasedAnalyst(), breaker=2)
    judgements = judge.classify_events(events)
    assert len(fake.requests) == 2
    assert {j.analyst for j in judgements} == {"rules"}


LIKE_FACTS = {
    "symbol": "XOM",
    "candidates": ["CVX", "RRC"],
    "candidates_facts": [
        {"symbol": "CVX", "description_distance": 0.2, "competition": 0.9, "same_sector": True, "coefficient": 0.8},
        {"symbol": "RRC", "description_distance": 0.5, "competition": 0.2, "same_sector": True, "coefficient": 0.4},
    ],
}


def test_claude_answers_a_users_question_through_the_forced_tool(clean_stores, pg):
    answer = {
        "label": "RANKED",
        "confidence": 0.8,
        "ranking": [{"name": "CVX", "score": 0.9, "reason": "integrated oil peer"}],
        "reasons": ["CVX is the closest integrated peer"],
    }
    fake = FakeAnthropic((200, message([tool_use("answer_question", answer)])))
    judgement = Judge(pg, fake.analyst(), RuleBasedAnalyst()).answer("like", LIKE_FACTS)
    assert (judgement.analyst, judgement.value.ranking[0].name) == ("claude", "CVX")
    request = fake.requests[0]
    assert request["tool_choice"] == {"type": "tool", "name": "answer_question"}
    assert request["tools"][0]["input_schema"]["properties"]["label"]["enum"] == ["RANKED"]
    assert json.loads(request["messages"][0]["content"])["facts"]["symbol"] == "XOM"


@pytest.mark.parametrize(
    "reply",
    [
        message([tool_use("answer_question", {"label": "RANKED", "confidence": 0.8, "reasons": ["x"],
                                               "ranking": [{"name": "SHEL", "score": 1, "reason": "unknown"}]})]),
        message([tool_use("answer_question", {"label": "BUY", "confidence": 0.8, "ranking": [], "reasons": ["x"]})]),
        message([{"type": "text", "text": "I think CVX"}], "end_turn"),
        message([], "refusal"),
    ],
    ids=["unknown-candidate", "wrong-label", "malformed", "refusal"],
)  # fmt: skip
def test_a_bad_answer_to_a_users_question_falls_back_to_the_rules(clean_stores, pg, reply):
    fake = FakeAnthropic((200, reply))
    judgement = Judge(pg, fake.analyst(), RuleBasedAnalyst()).answer("like", LIKE_FACTS)
    assert judgement.analyst == "rules" and judgement.value.ranking[0].name == "CVX"
