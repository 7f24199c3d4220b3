from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.exchange.client import PartnerSide
from tipline.exchange import actions
from tipline.exchange.models import PartnerHotline


@dataclass
class Configured:
    side: PartnerSide
    hotline: PartnerHotline
    token: str  # what the partner presents to us


@pytest.fixture
def partner(db: None) -> Configured:
    side = PartnerSide()
    added = actions.hotline_add(
        actor="test",
        name=side.name,
        base_url="https://hotline.example.fr",
        public_key_hex=side.public_hex,
        country="FR",
    )
    return Configured(side=side, hotline=added.hotline, token=added.inbound_token)
