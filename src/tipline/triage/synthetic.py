"""Synthetic closed reports for the learning layer's benchmark and tests.

Written sentences about *behaviour* (threats, pressure, meetings, secrecy, everyday context) are
combined at random with a fixed seed; each text carries the tier an analyst would plausibly have
confirmed. There is no sexual content here, and nothing is drawn from the held-apart test set.
These texts exist to measure speed and to exercise training; they say nothing about accuracy on
real reports.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from tipline.triage.tiers import Tier

CONTEXT = (
    "I found this account under the comments of a gaming video.",
    "The messages started last spring and I kept screenshots.",
    "My neighbour helped me write down the usernames and dates.",
    "The school counsellor told me to report it here as well.",
    "He used a cartoon profile picture and a made-up name.",
    "I am not sure this is the right place but someone should know.",
    "We changed the password and turned on two-step sign-in.",
    "She showed me the chat on her tablet after dinner.",
    "The account was created a few weeks ago and has no friends listed.",
    "Mon fils a reçu des messages étranges sur un jeu en ligne.",
    "मैंने सारे संदेशों के स्क्रीनशॉट रख लिए हैं।",
)
# (tier an analyst would confirm, sentences describing behaviour of that urgency)
BEHAVIOUR: dict[Tier, tuple[str, ...]] = {
    Tier.P1: (
        "He says he is waiting outside her school right now and she is only twelve.",
        "He wrote that he is going to hurt all of them tonight and has the address.",
        "My friend texted that she has the pills ready and wants to end it tonight.",
        "The man drove to our town and told her to come out alone in ten minutes.",
        "You deserve to die and I am going to make it happen this evening.",
    ),
    Tier.P2: (
        "He keeps demanding money and says he will send the pictures to her class by Friday.",
        "He asked her to move to a private app and to delete every message after reading.",
        "He posts our home street in group chats and says people should visit us.",
        "Someone threatens to beat my brother after the match next week.",
        "He promised her a new phone if she keeps their chats a secret from her parents.",
    ),
    Tier.P3: (
        "The account keeps creating new profiles to message her after being blocked.",
        "He comments on every photo she posts and sends many messages a day.",
        "A stranger asked how old she is and which school she goes to.",
        "The page shares rumours about a teacher and invites others to pile on.",
    ),
    Tier.P4: (
        "I think a website is selling fake concert tickets.",
        "Someone copied my shop's product photos onto their page.",
        "A player was rude in the game chat and used a lot of swear words.",
        "My mom will kill me if I fail this exam, it is so stressful.",
        "The news article described a court case from another country.",
    ),
}
SHARES = ((Tier.P1, 0.08), (Tier.P2, 0.22), (Tier.P3, 0.30), (Tier.P4, 0.40))


def reports(count: int, *, seed: int = 20, size: int = 500) -> Iterator[tuple[str, Tier]]:
    """``count`` (text, tier) pairs of roughly ``size`` characters each."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    tiers = [t for t, _ in SHARES]
    weights = [w for _, w in SHARES]
    for _ in range(count):
        tier = rng.choices(tiers, weights)[0]
        parts = [rng.choice(BEHAVIOUR[tier])]
        while sum(len(p) + 1 for p in parts) < size:
            parts.append(rng.choice(CONTEXT))
        rng.shuffle(parts)
        yield " ".join(parts), tier
