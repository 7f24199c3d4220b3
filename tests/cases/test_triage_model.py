"""The learned triage model on real reports: training, sealing, shadow and on, the switch,
retraining after retention erases what it learned from, and the time-based evaluation."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.utils import timezone

from tests import factories
from tests.triage.test_learned import distinctive
from tipline import crypto
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.cases import retention, triage_model
from tipline.cases.models import Report, TriageModel, TriageModelSource, TriageResult
from tipline.cases.policies import NotAllowed
from tipline.cases.states import Outcome, state_for
from tipline.cases.tasks import retention_run, triage_report
from tipline.triage import engine, learned
from tipline.triage.tiers import Tier

pytestmark = pytest.mark.django_db

# Written behaviour, never sexual content. Urgent texts share words the rules do not know
# ("lurking", "gate"), so only a model that learned from decisions can read them as urgent.
URGENT = (
    "A man keeps lurking by the school gate every afternoon and calls her over by name.",
    "The stranger from the game was lurking at the gate again, waving her to his car.",
    "He was lurking near the gate of her school and said he would come back tomorrow.",
    "Someone lurking at the playground gate photographs the children and follows them.",
)
CALM = (
    "A shop online sells fake concert tickets and never answers refund requests.",
    "Someone copied the product photos of my shop onto their own page.",
    "A website shows adverts for a lottery that does not seem to exist.",
    "The forum has spam posts about cheap watches in every thread.",
)
MIN = 10
_clock = itertools.count()


def finished(
    text: str, tier: Tier, outcome: Outcome, *, days_ago: float = 400, **kw: Any
) -> Report:
    """A report finished ``days_ago`` with ``tier`` (set directly, as its triage had left it)."""
    report = factories.report(text=text, **kw).report
    closed_at = timezone.now() - timedelta(days=days_ago, seconds=next(_clock))
    Report.objects.filter(pk=report.pk).update(
        state=state_for(outcome), outcome=outcome, tier=tier, closed_at=closed_at
    )
    report.refresh_from_db()
    return report


def decisions(count: int = 14, *, days_ago: float = 20, extra: str = "") -> list[Report]:
    made = []
    for i in range(count):
        made.append(finished(URGENT[i % 4] + extra, Tier.P2, Outcome.REFERRED, days_ago=days_ago))
        made.append(
            finished(CALM[i % 4] + extra, Tier.P4, Outcome.NOT_ACTIONABLE, days_ago=days_ago)
        )
    return made


def actions(prefix: str) -> list[dict[str, Any]]:
    return [
        {"action": e.action, "actor": e.actor, **e.details}
        for e in AuditEntry.objects.filter(action__startswith=prefix).order_by("seq")
    ]


def test_training_refuses_below_the_minimum_and_keeps_nothing() -> None:
    decisions(5)
    with pytest.raises(learned.TrainingRefused, match=f"need {MIN}"):
        triage_model.model_train(actor="cli", min_class=MIN)
    with pytest.raises(CommandError, match="not trained"):
        call_command("triage", "train", "--min-class", str(MIN))
    assert not TriageModel.objects.exists()
    assert not actions("triage.")


def test_labels_come_from_the_decision_duplicates_teach_nothing() -> None:
    referred = finished(URGENT[0], Tier.P2, Outcome.REFERRED)
    not_actionable = finished(URGENT[1], Tier.P1, Outcome.NOT_ACTIONABLE)
    duplicate = finished(URGENT[2], Tier.P1, Outcome.DUPLICATE)
    factories.report(text=URGENT[3])  # still open: no decision yet
    labels = {d.report_id: d.example.label for d in triage_model.decided_reports()}
    assert labels == {referred.id: Tier.P2, not_actionable.id: Tier.P4}
    assert duplicate.id not in labels


def test_the_model_is_sealed_under_its_own_key_and_never_readable_without_it() -> None:
    decisions()
    row = triage_model.model_train(actor="cli", min_class=MIN)
    assert row.trained_on == 28
    assert TriageModelSource.objects.filter(model=row).count() == 28
    sealed = bytes(row.sealed)
    assert b"lurking" not in sealed
    assert b"PK" not in sealed[:8]
    model = triage_model.open_model(row)
    assert "lurking" in model.words()
    # Another record's context (a blob moved to another row) and another key both fail.
    key = crypto.unwrap_data_key(
        bytes(row.wrapped_key), context=crypto.context("triage-model", row.id)
    )
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(key, sealed, context=crypto.context("triage-model", "other", "arrays"))
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(
            crypto.new_data_key(), sealed, context=crypto.context("triage-model", row.id, "arrays")
        )
    # Training again replaces it: the old row, with the only copy of its key, is gone.
    again = triage_model.model_train(actor="cli", min_class=MIN)
    assert list(TriageModel.objects.values_list("id", flat=True)) == [again.id]
    trained = actions("triage.model_trained")
    assert [t["replaced"] for t in trained] == [[], [row.version]]
    assert all("lurking" not in str(t) for t in trained)
    assert verify().entries == AuditEntry.objects.count()  # raises on a broken chain


def _lurking_report() -> Report:
    # Rules see nothing urgent here (no rule knows these words); the model learned otherwise.
    report = factories.report(
        text="Again a man lurking at the gate of her school, calling her."
    ).report
    triage_report.call(str(report.id))
    report.refresh_from_db()
    return report


def test_shadow_mode_records_the_opinion_and_leaves_the_tier_alone() -> None:
    decisions()
    triage_model.model_train(actor="cli", min_class=MIN)
    assert triage_model.model_mode() == "shadow"
    report = _lurking_report()
    result = TriageResult.objects.get(report=report)
    assert result.model_mode == "shadow"
    assert result.model_tier == "P2"
    assert result.model_confidence is not None
    assert result.model_confidence >= 0.6
    assert result.tier == result.rules_tier == report.tier
    assert result.rules_tier > "P2"  # the rules alone rate it less urgent
    triaged = actions("report.triaged")[-1]
    assert triaged["model"]["mode"] == "shadow"
    assert triaged["model"]["tier"] == "P2"
    assert "lurking" not in str(triaged)


def test_switched_on_the_model_raises_a_tier_and_never_lowers_one() -> None:
    decisions()
    triage_model.model_train(actor="cli", min_class=MIN)
    admin = factories.staff("root", "admin").user
    triage_model.model_set_mode(actor=admin, mode="on")
    report = _lurking_report()
    result = TriageResult.objects.get(report=report)
    assert (result.model_mode, result.model_tier, result.tier, report.tier) == (
        "on",
        "P2",
        "P2",
        "P2",
    )
    assert result.rules_tier > "P2"
    # A text the rules rate P1 and the model reads as calm stays P1.
    urgent = factories.report(
        category="child_in_danger",
        text="He said he will kill her tonight, he is outside her house now and she is 12.",
    ).report
    triage_report.call(str(urgent.id))
    urgent_result = TriageResult.objects.get(report=urgent)
    assert urgent_result.rules_tier == "P1"
    assert urgent_result.tier == "P1"


def test_every_switch_is_audited_and_only_administrators_switch() -> None:
    admin = factories.staff("root", "admin").user
    analyst = factories.staff("ana", "analyst").user
    supervisor = factories.staff("sue", "supervisor").user
    for person in (analyst, supervisor):
        with pytest.raises(NotAllowed):
            triage_model.model_set_mode(actor=person, mode="on")
    assert triage_model.model_mode() == "shadow"
    triage_model.model_set_mode(actor=admin, mode="on")
    triage_model.model_set_mode(actor=admin, mode="off")
    call_command("triage", "model", "shadow")
    assert actions("triage.model_mode") == [
        {"action": "triage.model_mode", "actor": "root", "mode": ["shadow", "on"]},
        {"action": "triage.model_mode", "actor": "root", "mode": ["on", "off"]},
        {"action": "triage.model_mode", "actor": "cli", "mode": ["off", "shadow"]},
    ]
    # A model trained by hand starts in shadow mode again, and says so in its entry.
    triage_model.model_set_mode(actor=admin, mode="on")
    decisions()
    triage_model.model_train(actor="cli", min_class=MIN)
    assert triage_model.model_mode() == "shadow"
    assert actions("triage.model_trained")[-1]["mode"] == ["on", "shadow"]


def test_off_runs_no_model() -> None:
    decisions()
    triage_model.model_train(actor="cli", min_class=MIN)
    triage_model.model_set_mode(actor=None, mode="off")
    result = TriageResult.objects.get(report=_lurking_report())
    assert (result.model_mode, result.model_tier, result.model_version) == ("", "", "")


def test_retention_retrains_without_erased_reports_so_their_words_do_not_live_on() -> None:
    # Three old reports share a distinctive word (three: the least an n-gram needs to be kept).
    old = decisions(3, days_ago=800, extra=" Zorblaxian again")
    recent = decisions(14, days_ago=20)
    first = triage_model.model_train(actor="cli", min_class=MIN)
    triage_model.model_set_mode(actor=None, mode="on")
    own = distinctive("zorblaxian", [*URGENT, *CALM])
    assert own <= triage_model.open_model(first).held("zorblaxian")
    summary = retention_run.call()
    assert summary["content_erased"] == len(old)
    rows = list(TriageModel.objects.all())
    assert len(rows) == 1
    assert rows[0].id != first.id
    retrained_model = triage_model.open_model(rows[0])
    # Neither the word nor any of its own character n-grams ("orbl", "blaxi" …) is in the model.
    assert not own & retrained_model.held("zorblaxian")
    assert "zorblaxian" not in retrained_model.words()
    sources = set(TriageModelSource.objects.values_list("report_id", flat=True))
    assert sources == {r.id for r in recent}
    assert triage_model.model_mode() == "on"  # a retrain keeps the administrator's choice
    retrained = actions("triage.model_trained")[-1]
    assert (retrained["actor"], retrained["reason"]) == ("system", "sources_erased")
    # Nothing more erased: the next run leaves the model alone.
    assert triage_model.retrain_after_erasure() == "clean"


def test_retention_destroys_the_model_when_too_little_is_left_to_train() -> None:
    decisions(14, days_ago=800)
    row = triage_model.model_train(actor="cli", min_class=MIN)
    retention.apply(retention.iter_plan(timezone.now()), actor="system")
    assert triage_model.retrain_after_erasure() == "destroyed"
    assert not TriageModel.objects.exists()
    assert actions("triage.model_destroyed")[-1]["erased"] == 28
    assert row.version == AuditEntry.objects.filter(action="triage.model_destroyed").get().target_id


def test_eval_compares_rules_model_and_both_on_a_time_based_split(
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = decisions(20, days_ago=50)
    comparison = triage_model.compare(min_class=MIN)
    closed: dict[Any, datetime] = dict(Report.objects.values_list("id", "closed_at"))
    ordered = sorted(made, key=lambda r: closed[r.id])
    assert comparison.cut == closed[ordered[32].id]  # the last 20% (8 of 40) are held out
    assert set(comparison.reports) == {"rules", "model", "combined"}
    assert all(r.examples == 8 for r in comparison.reports.values())
    assert not TriageModel.objects.exists()  # evaluation trains a throw-away model
    call_command("triage", "eval", "--model", "--min-class", str(MIN))
    out = capsys.readouterr().out
    assert "time-based split" in out
    assert "Model alone" in out
    with pytest.raises(CommandError, match="give no FILE"):
        call_command("triage", "eval", "--model", "--set", "dev")


def test_the_command_line_triage_is_the_one_that_knows_the_model() -> None:
    assert get_commands()["triage"] == "tipline.ops"


def test_the_case_view_shows_the_model_apart_with_its_words_escaped() -> None:
    from tests.console.helpers import signed_in

    decisions()
    triage_model.model_train(actor="cli", min_class=MIN)
    report = factories.report(
        text="Again a man lurking at the gate <b>now</b>, calling her."
    ).report
    triage_report.call(str(report.id))
    client, _ = signed_in("ana")
    text = client.get(f"/console/reports/{report.id}/").content.decode()
    assert "Learned model" in text
    assert "Shadow mode" in text
    panel = text[text.index('id="model-heading"') :]
    words = re.findall(r'<mark class="model-span">([^<]*)</mark>', panel)
    assert "lurking" in words
    assert "<b>now</b>" not in text
    # The rules' highlights in the text stay the rules' own: the model's words are not among them.
    assert '<mark class="triage-span">lurking' not in text
    # The model's words are highlighted in the report's text itself, as their own kind, and the
    # legend says what each kind means.
    answers = text[text.index('id="answers-heading"') :]
    answers = answers[: answers.index("</section>")]
    in_text = re.findall(r'<mark class="model-span" title="([^"]*)">([^<]*)</mark>', answers)
    assert any("lurking" in words for _title, words in in_text)  # "lurking at the": n-grams join
    assert all("learned model" in title for title, _word in in_text)
    assert "<b>now</b>" not in answers
    assert "&lt;b&gt;" in answers
    legend = text[text.index('id="highlight-legend"') :]
    assert "Blue, underlined" in legend[: legend.index("</div>")]
    triage_model.model_set_mode(actor=None, mode="on")
    triage_report.call(str(report.id))
    text = client.get(f"/console/reports/{report.id}/").content.decode()
    assert "On: it may raise the tier" in text


def test_analysts_tier_corrections_are_what_the_model_learns() -> None:
    """Regression guard for issue 20's label: a closing decision's ``right_tier`` wins."""
    from tipline.cases.models import Decision
    from tipline.cases.states import DecisionStatus

    analyst = factories.staff("ana").user
    # Every urgent report was closed as "not actionable" at P4 (today's rule teaches P4), but the
    # analyst said P2 was right: with the corrections there are two tiers to learn, without none.
    for report in decisions():
        if report.tier == Tier.P2:
            Report.objects.filter(pk=report.pk).update(tier=Tier.P4, outcome=Outcome.NOT_ACTIONABLE)
            Decision.objects.create(
                report=report,
                outcome=Outcome.NOT_ACTIONABLE,
                needs_second_review=False,
                status=DecisionStatus.CONFIRMED,
                proposed_by=analyst,
                right_tier=Tier.P2,
            )
    row = triage_model.model_train(actor="cli", min_class=MIN)
    assert row.classes == {"P2": 14, "P4": 14}
    opinion = triage_model.open_model(row).opinion(URGENT[0], engine.score(URGENT[0]))
    assert opinion.tier == Tier.P2
