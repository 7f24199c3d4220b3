"""Webhooks: a partner's reports' status changes, signed and delivered with retries.

How a status change is noticed, without cases importing this package (a sibling may not import
a sibling, and cases must not know about partners): every cases action that changes a report
writes an audit entry in the same transaction (``tipline.audit``, layer 2). The audit log is
therefore already a transactional outbox: dense ``seq`` numbers, committed in order (one writer
at a time holds the chain's lock until commit), never rewritten. ``changes_drain`` reads the
entries about reports after its cursor, looks at the partner reports among them, and queues a
delivery when the report's partner-visible status (``received``, ``in_review``,
``action_taken`` with its outcome, ``closed``) differs from the last one announced; cursor,
deliveries and announced statuses move in one transaction. "received" is queued by the batch
that files the report. A report that changes twice between two drains announces its latest
status (the partner sees every status it could have read with GET, in order).

Delivery: ``POST`` of the JSON payload with ``Tipline-Signature: t=<unix seconds>,v1=<hex>``,
where v1 is HMAC-SHA256 with the endpoint's secret over ``<t>.<body bytes>``. Receivers must
recompute it, compare in constant time, and refuse a t more than ``REPLAY_WINDOW`` seconds from
their clock; ``Tipline-Delivery`` (a UUID, the same on every retry) lets them drop repeats. Any
2xx is success; anything else, or no answer within ``TIMEOUT``, is retried with exponential
backoff (``backoff``) up to ``MAX_ATTEMPTS`` times, then marked failed.

SSRF: endpoints must be https; the host is resolved whenever a connection is opened (kept alive
for the deliveries of one run, see ``_Connections``) and every address must be
public (not loopback, private, link-local, multicast or reserved), and the connection goes to
the address that was checked (no second lookup an attacker's DNS could answer differently).
Only test settings relax this (``TIPLINE_WEBHOOK_ALLOW_PRIVATE``) and add a CA
(``TIPLINE_WEBHOOK_CA_FILE``) for an HTTPS receiver on loopback with a self-signed certificate.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import urllib.parse
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django import db
from django.conf import settings
from django.db import transaction
from django.db.models import Field
from django.utils import timezone

from tipline.audit.chain import record
from tipline.audit.models import AuditEntry
from tipline.cases.states import ReportState, public_status
from tipline.crypto.box import webhook_secret
from tipline.partnerapi.models import (
    Cursor,
    DeliveryState,
    PartnerReport,
    WebhookDelivery,
    WebhookEndpoint,
)
from tipline.partners.models import ApiCredential, CredentialKind

SIGNATURE_HEADER = "Tipline-Signature"
REPLAY_WINDOW = 300
TIMEOUT = 10
MAX_ATTEMPTS = 12
CURSOR = "webhooks"
DRAIN_BATCH = 1000


class WebhookError(Exception):
    """A webhook setting refused; the message is fit for an operator."""


@dataclass(frozen=True)
class SetEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


# --- the address ---------------------------------------------------------------------------------


def _allowed_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if settings.TIPLINE_WEBHOOK_ALLOW_PRIVATE:
        return True
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> urllib.parse.SplitResult:
    """Refuse what a webhook may not be: not https, credentials in it, no host, odd ports."""
    if len(url) > 500 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise WebhookError("give an https:// address of at most 500 characters")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https":
        raise WebhookError("a webhook address must start with https://")
    if parts.username or parts.password or not parts.hostname:
        raise WebhookError("a webhook address has a host name and no user name or password")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise WebhookError("the port is not a number from 1 to 65535") from None
    return parts


def _resolve(parts: urllib.parse.SplitResult) -> str:
    """One address of the host that is allowed; WebhookError if any is not (a host that also
    resolves to an internal address is refused whole)."""
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise WebhookError("the host name does not resolve") from None
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses or not all(_allowed_address(a) for a in addresses):
        raise WebhookError("the host resolves to a private or reserved address")
    return addresses[0]


# --- actions -------------------------------------------------------------------------------------


def webhook_set(*, actor: str, credential_id: int, url: str) -> SetEndpoint:
    """Register (or replace) a partner's endpoint, with a new secret shown once."""
    parts = check_url(url.strip())
    _resolve(parts)
    nonce = secrets.token_hex(32)
    with transaction.atomic():
        credential = ApiCredential.objects.filter(
            pk=credential_id, kind=CredentialKind.PARTNER, revoked_at=None
        ).first()
        if credential is None:
            raise WebhookError(f"no live partner credential has the id {credential_id}")
        endpoint, _created = WebhookEndpoint.objects.update_or_create(
            credential=credential,
            defaults={"url": parts.geturl(), "secret_nonce": nonce, "created_by": actor},
        )
        record(
            actor=actor,
            action="partner.webhook_set",
            target_type="api_credential",
            target_id=credential.pk,
            details={"host": parts.hostname},
        )
    return SetEndpoint(endpoint=endpoint, secret=webhook_secret(nonce))


def webhook_remove(*, actor: str, credential_id: int) -> None:
    with transaction.atomic():
        deleted, _rows = WebhookEndpoint.objects.filter(credential_id=credential_id).delete()
        if not deleted:
            raise WebhookError(f"credential {credential_id} has no webhook")
        record(
            actor=actor,
            action="partner.webhook_remove",
            target_type="api_credential",
            target_id=credential_id,
        )


def _payload(link: PartnerReport, status: str, outcome: str) -> dict[str, Any]:
    return {
        "type": "report.status",
        "occurred_at": timezone.now().isoformat(),
        "report": {
            "id": str(link.report_id),
            "reference": link.reference,
            "status": status,
            "outcome": outcome or None,
        },
    }


def endpoint_of(credential_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(credential_id=credential_id).first()


_LOOK_UP = object()


def _delivery_for(
    link: PartnerReport, state: str, outcome: str, endpoint: WebhookEndpoint | None
) -> WebhookDelivery | None:
    """The (unsaved) delivery announcing this status, if it is new to the partner and the
    partner has a webhook; notes the status on ``link`` (the caller saves both)."""
    status = public_status(state).value
    decided = state in (ReportState.ACTIONED, ReportState.CLOSED)
    if link.notified_status == status or endpoint is None:
        return None
    link.notified_status = status
    return WebhookDelivery(
        endpoint=endpoint, payload=_payload(link, status, outcome if decided else "")
    )


def status_queue(
    *, link: PartnerReport, state: str, outcome: str, endpoint: object = _LOOK_UP
) -> bool:
    """Queue a delivery if the partner has a webhook and this status is new to it. Call inside
    the transaction that changes (or notices) the status. A caller handling many reports of one
    partner passes its ``endpoint`` (or None) to save a query per report."""
    if link.notified_status == public_status(state).value:
        return False
    if endpoint is _LOOK_UP:
        endpoint = endpoint_of(link.credential_id)
    delivery = _delivery_for(
        link, state, outcome, endpoint if isinstance(endpoint, WebhookEndpoint) else None
    )
    if delivery is None:
        return False
    delivery.save()
    PartnerReport.objects.filter(pk=link.pk).update(notified_status=link.notified_status)
    return True


def changes_drain(*, limit: int = DRAIN_BATCH) -> int:
    """Turn the audit entries about reports after the cursor into deliveries; returns how many
    entries were read (0: nothing new). At 100 changes/s a query or three per change here was
    most of the webhooks worker's time: endpoints are looked up once per partner, deliveries
    written in one insert and announced statuses in one update per status."""
    with transaction.atomic():
        cursor, _created = Cursor.objects.select_for_update().get_or_create(name=CURSOR)
        entries = list(
            AuditEntry.objects.filter(seq__gt=cursor.position)
            .order_by("seq")
            .values_list("seq", "target_type", "target_id")[:limit]
        )
        if not entries:
            return 0
        report_ids = {tid for _s, ttype, tid in entries if ttype == "report"}
        links = (
            PartnerReport.objects.filter(
                report_id__in=[_uuid(r) for r in report_ids if _uuid(r)],
                credential__webhook__isnull=False,
            )
            .select_related("report", "credential__webhook")
            .order_by("report_id")
        )
        queued: list[WebhookDelivery] = []
        announced: dict[str, list[int]] = {}
        for link in links:
            delivery = _delivery_for(
                link, link.report.state, link.report.outcome, link.credential.webhook
            )
            if delivery is not None:
                queued.append(delivery)
                announced.setdefault(link.notified_status, []).append(link.pk)
        WebhookDelivery.objects.bulk_create(queued, batch_size=500)
        for status, pks in announced.items():
            PartnerReport.objects.filter(pk__in=pks).update(notified_status=status)
        cursor.position = entries[-1][0]
        cursor.updated_at = timezone.now()
        cursor.save(update_fields=["position", "updated_at"])
    return len(entries)


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


# --- delivery ------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … doubling, at most 6 h between attempts (about 1.5 days in all)."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the address that was checked, with the certificate checked for the host name."""

    def __init__(self, host: str, address: str, port: int, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=TIMEOUT, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def _context() -> ssl.SSLContext:
    return _context_with(settings.TIPLINE_WEBHOOK_CA_FILE or "")


@functools.cache
def _context_with(ca_file: str) -> ssl.SSLContext:
    """Built once per process (loading the system's CA store costs tens of ms, and was paid for
    every connection); an SSLContext may be shared by threads."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


class _Connections:
    """One kept-alive connection per endpoint for one lane's deliveries (see ``Sender``).

    A new TLS connection per delivery cost more than the delivery itself (handshake, and the
    receiver's private-key operation), which capped the rate at a few per second. The host is
    resolved and checked when a connection is opened (once per endpoint and lane, or again
    after a failure), and the connection goes to the address that was checked.
    """

    def __init__(self) -> None:
        self.open: dict[int, tuple[_PinnedHTTPSConnection, str, str]] = {}

    def get(self, endpoint: WebhookEndpoint) -> tuple[_PinnedHTTPSConnection, str, bool]:
        """(connection, request path, whether it is new). A partner who replaced its URL (same
        endpoint row) gets a new connection to the new one."""
        found = self.open.get(endpoint.pk)
        if found is not None and found[2] == endpoint.url:
            return found[0], found[1], False
        self.drop(endpoint)
        parts = check_url(endpoint.url)
        address = _resolve(parts)
        connection = _PinnedHTTPSConnection(
            parts.hostname or "", address, parts.port or 443, _context()
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.open[endpoint.pk] = (connection, path, endpoint.url)
        return connection, path, True

    def drop(self, endpoint: WebhookEndpoint) -> None:
        found = self.open.pop(endpoint.pk, None)
        if found is not None:
            found[0].close()

    def close(self) -> None:
        for connection, _path, _url in self.open.values():
            connection.close()
        self.open.clear()


# An answer body worth reading to keep the connection; a longer one closes it.
_KEEP_BODY = 64 * 1024


def _send(delivery: WebhookDelivery, connections: _Connections) -> tuple[int | None, str]:
    endpoint = delivery.endpoint
    body = json.dumps({"id": str(delivery.id), **delivery.payload}, sort_keys=True).encode()
    signature = sign(webhook_secret(endpoint.secret_nonce), int(timezone.now().timestamp()), body)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature,
        "Tipline-Delivery": str(delivery.id),
        "User-Agent": "Tipline-Webhooks/1",
    }
    for _attempt in range(2):
        try:
            connection, path, fresh = connections.get(endpoint)
        except WebhookError as refused:
            return None, str(refused)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(_KEEP_BODY)
            if response.will_close or not response.isclosed():
                connections.drop(endpoint)  # the receiver ends it, or its answer was too long
            return response.status, ""
        except (OSError, http.client.HTTPException) as error:
            connections.drop(endpoint)
            if fresh:
                return None, type(error).__name__ + ": " + str(error)[:150]
            # A kept-alive connection the receiver had closed meanwhile: once more, on a new one.
    return None, "the connection failed twice"


def _claim(now: datetime, limit: int) -> list[WebhookDelivery]:
    """Due deliveries, leased for a minute so a second worker does not send them too."""
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .select_related("endpoint")
            .order_by("next_attempt_at", "created_at")[:limit]
        )
        WebhookDelivery.objects.filter(id__in=[d.id for d in due]).update(
            next_attempt_at=now + timedelta(seconds=TIMEOUT * 6)
        )
    return due


# Deliveries in flight at once. One at a time, each waits a full round trip to the receiver
# (tens of ms on a busy machine), which capped delivery near 20/s; partitioned by report, each
# report's deliveries still go out in order, on one lane.
LANES = 8


def _lane(delivery: WebhookDelivery) -> int:
    report = delivery.payload.get("report", {}) if isinstance(delivery.payload, dict) else {}
    return zlib.crc32(str(report.get("id", delivery.id)).encode()) % LANES


def _send_lane(deliveries: list[WebhookDelivery], connections: _Connections) -> None:
    """Send one lane's deliveries in order over its connections; note each outcome."""
    for delivery in deliveries:
        status, error = _send(delivery, connections)
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_status = status
        delivery.last_error = error[:200]
        if status is not None and 200 <= status < 300:
            delivery.state = DeliveryState.DELIVERED
            delivery.delivered_at = now
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = DeliveryState.FAILED
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)


class Sender:
    """The lanes' threads and kept-alive connections, kept from one ``deliver_due`` to the next
    (the webhooks task keeps one for its run): at 100 changes/s a run holds a few dozen
    deliveries, and opening every lane's TLS connection anew for each cost more than sending
    them. A lane's connections are used by one thread at a time (runs do not overlap)."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=LANES, thread_name_prefix="webhook-lane")
        self.lanes = [_Connections() for _n in range(LANES)]

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for connections in self.lanes:
            connections.close()


def deliver_due(*, limit: int = 200, sender: Sender | None = None) -> int:
    """Send what is due, on up to ``LANES`` lanes at once (one kept-alive connection per lane
    and endpoint; a report's deliveries on one lane, in order); returns how many were
    attempted. Lanes touch no database; outcomes are written together at the end: if the
    process dies half-way, the lease runs out and the unrecorded ones are sent again (at least
    once, never lost). Without a ``sender``, one is made for this run and closed after it."""
    due = _claim(timezone.now(), limit)
    if not due:
        return 0
    if sender is None:
        with Sender() as own:
            return _deliver(due, own)
    return _deliver(due, sender)


def _deliver(due: list[WebhookDelivery], sender: Sender) -> int:
    lanes: dict[int, list[WebhookDelivery]] = {}
    for delivery in due:
        lanes.setdefault(_lane(delivery), []).append(delivery)
    running = [sender.pool.submit(_send_lane, lane, sender.lanes[n]) for n, lane in lanes.items()]
    for done in running:
        done.result()
    _outcomes_save(due)
    return len(due)


_OUTCOME = ("attempts", "last_status", "last_error", "state", "delivered_at", "next_attempt_at")


def _outcomes_save(done: list[WebhookDelivery]) -> None:
    """Each delivery's outcome, in one statement run for every row. ``bulk_update`` built a
    CASE per field and row, about 1.5 ms of CPU a delivery: the biggest cost of a run."""
    meta = WebhookDelivery._meta
    # Plain fields (no db_column): a field's column is its attname.
    fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in _OUTCOME]
    key = meta.pk
    quote = db.connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(key.attname)
    columns = ", ".join(f"{quote(f.attname)} = %s" for f in fields)
    sql = f"UPDATE {table} SET {columns} WHERE {pk} = %s"  # noqa: S608 - fixed identifiers
    rows = [
        [f.get_db_prep_save(getattr(d, f.attname), db.connection) for f in fields]
        + [key.get_db_prep_save(d.pk, db.connection)]
        for d in done
    ]
    with transaction.atomic(), db.connection.cursor() as cursor:
        cursor.executemany(sql, rows)


# --- selectors -----------------------------------------------------------------------------------


def deliveries(*, credential_id: int | None = None, limit: int = 200) -> list[WebhookDelivery]:
    rows = WebhookDelivery.objects.select_related("endpoint__credential").order_by("-created_at")
    if credential_id is not None:
        rows = rows.filter(endpoint__credential_id=credential_id)
    return list(rows[:limit])
