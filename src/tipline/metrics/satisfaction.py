"""Reporter satisfaction: record anonymous answers, count them, and read comments (audited).

Answers carry the category and stage only (see ``SatisfactionAnswer``). Counting never opens a
comment; reading comments is for supervisors and administrators, each reading recorded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC

from django.db import transaction
from django.utils import timezone

from tipline import crypto
from tipline.audit.chain import record
from tipline.crypto.box import new_data_key, unwrap_data_key, wrap_data_key
from tipline.metrics.models import SatisfactionAnswer, SatisfactionStage
from tipline.metrics.period import Period

QUESTIONS = ("easy", "safe", "next_steps")
SCORES = (1, 2, 3, 4, 5)
MAX_COMMENT = 2000


def _context(answer_id: object) -> str:
    return crypto.context("satisfaction", str(answer_id), "comment")


def answer_record(
    *,
    category: str,
    stage: SatisfactionStage,
    easy: int | None,
    safe: int | None,
    next_steps: int | None,
    comment: str,
) -> SatisfactionAnswer | None:
    """Keep the answers (None: everything was skipped, nothing is kept)."""
    comment = comment.strip()[:MAX_COMMENT]
    if easy is None and safe is None and next_steps is None and not comment:
        return None
    answer = SatisfactionAnswer(
        category=category,
        stage=stage,
        day=timezone.now().astimezone(UTC).date(),
        easy=easy,
        safe=safe,
        next_steps=next_steps,
    )
    if comment:
        key = new_data_key()
        answer.comment_key = wrap_data_key(key, context=_context(answer.id))
        answer.comment = crypto.seal_text(key, comment, context=_context(answer.id))
    answer.save(force_insert=True)
    return answer


@dataclass(frozen=True)
class Distribution:
    question: str
    counts: tuple[int, ...]  # answers 1..5
    skipped: int

    @property
    def answered(self) -> int:
        return sum(self.counts)


def distributions(period: Period) -> list[Distribution]:
    rows = SatisfactionAnswer.objects.filter(day__gte=period.start, day__lte=period.end)
    values = list(rows.values_list(*QUESTIONS))
    out = []
    for k, question in enumerate(QUESTIONS):
        seen = Counter(v[k] for v in values)
        out.append(Distribution(question, tuple(seen.get(s, 0) for s in SCORES), seen.get(None, 0)))
    return out


def comments_read(*, actor_username: str, period: Period) -> list[tuple[str, str, str]]:
    """(day, stage, comment) for the period, newest first; the reading is audited."""
    with transaction.atomic():
        rows = SatisfactionAnswer.objects.filter(
            day__gte=period.start, day__lte=period.end, comment__isnull=False
        ).order_by("-day")
        out = []
        for row in rows:
            if row.comment_key is None or row.comment is None:
                continue
            key = unwrap_data_key(bytes(row.comment_key), context=_context(row.id))
            text = crypto.open_text(key, row.comment, context=_context(row.id))
            out.append((row.day.isoformat(), row.stage, text))
        record(
            actor=actor_username,
            action="satisfaction.read_comments",
            details={"from": period.start.isoformat(), "to": period.end.isoformat(), "n": len(out)},
        )
    return out
