"""The report text's highlights: the rules' spans and the learned model's words, kept apart."""

from __future__ import annotations

from tipline.console.fields import MODEL, RULE, highlight


def test_each_kind_has_its_own_mark_and_overlaps_carry_both() -> None:
    text = "he said he will hurt her tonight"
    html = str(highlight(text, [(8, 21, RULE), (16, 32, MODEL)]))
    assert html.startswith("he said ")
    assert '<mark class="triage-span" title="fired a triage rule">he will </mark>' in html
    assert '<mark class="model-span triage-span" title=' in html
    assert ">hurt </mark>" in html
    assert (
        '<mark class="model-span" title="weighed most in the learned model&#x27;s opinion">' in html
    )
    assert html.endswith(">her tonight</mark>")


def test_neighbouring_ranges_of_one_kind_are_one_mark() -> None:
    html = str(highlight("abcdef", [(0, 2, RULE), (2, 4, RULE)]))
    assert html.count("<mark") == 1
    assert html.endswith("</mark>ef")


def test_hostile_text_and_ranges_never_become_markup() -> None:
    text = '<script>x</script>"><img src=x onerror=alert(1)>\nnext'
    html = str(highlight(text, [(-5, 10, RULE), (3, 10_000, MODEL), (7, 2, RULE), (0, 4, "evil")]))
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;img src=x" in html
    assert "<br>" in html
    assert "evil" not in html
