"""Hypothesis strategies for fuzzing the importers: mutated fixtures and generated exports.

Shared by the suite's fuzz tests (a few hundred examples each) and benchmarks/evidence_fuzz.py
(100,000+ per import path).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Tokens that matter to the parsers, spliced into mutated inputs to reach deeper code.
TOKENS = [
    b"\n",
    b"\r\n",
    b"\xe2\x80\x8e",
    b"\xe2\x80\xaf",
    b" - ",
    b": ",
    b"[",
    b"]",
    b"/",
    b".",
    b"PM",
    b"a.m.",
    b"12",
    b"31",
    b"99",
    b"0",
    b"<attached: ",
    b"(file attached)",
    b"\xff",
    b"{",
    b"}",
    b"[[[[",
    b'"',
    b"\\u00c3",
    b"null",
    b'"text": [',
    b'"date_unixtime": "x"',
    b"<!DOCTYPE x [<!ENTITY a 'b'>]>",
    b"&a;",
    b"<sms date='1' type='1' body='x'/>",
    b"<mms>",
    b"<part ct='image/png' data='@@'/>",
    b"From: ",
    b"Date: ",
    b"Received: ",
    b"=?utf-8?b?",
    b"Content-Type: multipart/mixed; boundary=x\n",
    b"--x\n",
    b"IEND",
    b"IDAT",
    b"PK\x03\x04",
    b"\x00" * 8,
    b"\xff\xd9",
    b"99999999999999999999",
    # WhatsApp shapes of issue 13: calendars, scripts, clock words, separators.
    b" BE",
    "\u0647\u0640".encode(),
    "\u060c ".encode(),
    "\u0645".encode(),
    "\u0662\u0660\u0662\u0664".encode(),
    "\u06f1\u06f4\u06f0\u06f2".encode(),
    b"R6",
    b"H31",
    "\u5348\u5f8c".encode(),
    "\u4e0b\u5348".encode(),
    "\uc624\ud6c4 ".encode(),
    b" klo ",
    "\u0905\u092a\u0930\u093e\u0939\u094d\u0928".encode(),
    "\u200f".encode(),
    "\uff1a".encode(),
    b"2567",
    b"1402",
    b"1445",
    b". ",
]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """One of `seeds`, with a few byte-level edits (flip, insert, delete, splice, truncate)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "token", "truncate", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif op == "truncate":
            del data[at:]
        elif op == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 200))] * draw(st.integers(1, 5))
    return bytes(data)


_NUMBER = st.integers(0, 40).map(str) | st.sampled_from(
    ["2024", "99", "1999", "00", "007", "2567", "1402", "1445", "1500", "\u0662\u0664", "R6", "H31"]
)


@st.composite
def whatsapp_text(draw: st.DrawFn) -> bytes:
    """Lines in (and near) the WhatsApp shapes: random dates, clocks, marks and senders."""
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        a, b, c = draw(_NUMBER), draw(_NUMBER), draw(_NUMBER)
        sep = draw(st.sampled_from("/.-"))
        clock = f"{draw(st.integers(0, 25))}:{draw(st.integers(0, 61)):02d}"
        if draw(st.booleans()):
            clock += f":{draw(st.integers(0, 61)):02d}"
        clock += draw(
            st.sampled_from(["", " AM", "\u202fPM", " p. m.", " a.m.", " \u0645", " \u5348\u5f8c"])
        )
        if draw(st.booleans()):
            clock = draw(st.sampled_from(["\u4e0b\u5348", "\uc624\ud6c4 ", ""])) + clock
        between = draw(st.sampled_from([", ", "\u060c ", " ", " klo "]))
        era = draw(st.sampled_from(["", " BE", " \u0647\u0640"]))
        sender = draw(st.sampled_from(["Sam", "+44 7700 900123", "\u202a+1 555\u202c", "", "A: B"]))
        text = draw(st.text(max_size=40))
        when = f"{a}{sep}{b}{sep}{c}{era}{between}{clock}"
        if draw(st.booleans()):
            when = f"{clock}, {a}{sep}{b}{sep}{c}"  # time first, as copied from WhatsApp Web
        closer = draw(st.sampled_from(["] ", " - ", ": ", " "]))
        line = f"[{when}] {sender}: {text}" if closer == "] " else f"{when}{closer}{sender}: {text}"
        lines.append(draw(st.sampled_from(["", "\u200e"])) + line)
        if draw(st.booleans()):
            lines.append(draw(st.text(max_size=30)))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(lines).encode("utf-8", errors="surrogatepass")


_JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_JSON = st.recursive(
    _JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    [
        "id",
        "type",
        "date",
        "date_unixtime",
        "from",
        "from_id",
        "text",
        "photo",
        "file",
        "actor",
        "action",
        "duration_seconds",
        "sender_name",
        "timestamp_ms",
        "content",
        "photos",
        "share",
        "call_duration",
        "reactions",
        "senderName",
        "timestamp",
        "media",
        "is_unsent",
    ]
)


@st.composite
def chat_json(draw: st.DrawFn) -> bytes:
    """Telegram- and Meta-shaped documents with hostile values in the fields we read."""
    messages = draw(st.lists(st.dictionaries(_KEYS, _JSON, max_size=8), max_size=6))
    shape = draw(st.sampled_from(["telegram", "full", "meta"]))
    if shape == "telegram":
        doc: object = {"name": draw(_JSON), "type": "personal_chat", "id": 1, "messages": messages}
    elif shape == "full":
        doc = {"chats": {"list": [{"name": draw(_JSON), "messages": messages}, draw(_JSON)]}}
    else:
        doc = {"participants": draw(_JSON), "title": draw(_JSON), "messages": messages}
    try:
        return json.dumps(doc).encode()
    except ValueError:  # pragma: no cover - floats like nan are allowed by json.dumps
        return b"{}"


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


@st.composite
def sms_xml(draw: st.DrawFn) -> bytes:
    """SMS Backup & Restore documents with random attribute values."""
    value = st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20
    ) | st.integers(-(10**15), 10**15).map(str)
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        tag = draw(st.sampled_from(["sms", "call", "mms"]))
        attrs = {
            k: draw(value)
            for k in draw(
                st.lists(
                    st.sampled_from(
                        [
                            "date",
                            "type",
                            "address",
                            "number",
                            "body",
                            "contact_name",
                            "duration",
                            "msg_box",
                        ]
                    ),
                    max_size=6,
                    unique=True,
                )
            )
        }
        body = " ".join(f'{k}="{_attr(v)}"' for k, v in attrs.items())
        if tag == "mms":
            ct, cl, data, text, addr = (_attr(draw(value)) for _ in range(5))
            part = f'<part ct="{ct}" cl="{cl}" data="{data}" text="{text}"/>'
            addrs = f'<addrs><addr address="{addr}" type="137"/></addrs>'
            rows.append(f"<mms {body}><parts>{part}</parts>{addrs}</mms>")
        else:
            rows.append(f"<{tag} {body} />")
    root = draw(st.sampled_from(["smses", "calls"]))
    return f"<?xml version='1.0' encoding='UTF-8'?><{root}>{''.join(rows)}</{root}>".encode()


@st.composite
def email_bytes(draw: st.DrawFn) -> bytes:
    """Header blocks and bodies with random values in the headers we read."""
    names = [
        "From",
        "Date",
        "Subject",
        "Received",
        "Message-ID",
        "DKIM-Signature",
        "Authentication-Results",
        "Content-Type",
        "Content-Transfer-Encoding",
        "To",
    ]
    lines = [f"From: {draw(st.text(max_size=30))}"]
    for _ in range(draw(st.integers(1, 8))):
        lines.append(f"{draw(st.sampled_from(names))}: {draw(st.text(max_size=40))}")
    body = draw(st.text(max_size=200))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8", errors="surrogatepass")


_GOOD_NAMES = st.sampled_from(
    [
        "_chat.txt",
        "WhatsApp Chat with Sam.txt",
        "IMG-20240312-WA0001.jpg",
        "a/b/c.jpg",
        "notes.txt",
        "__MACOSX/._x",
        "dir/",
        "00000012-PHOTO-2024-03-14-21-15-02.png",
    ]
)
_BAD_NAMES = st.sampled_from(["../x", "/abs.jpg", "C:\\x.jpg", "inner.zip", "x\x00.jpg"])


@st.composite
def whatsapp_zip(draw: st.DrawFn) -> bytes:
    """Zips with a chat and members with odd names, modes, methods and contents."""
    import io
    import stat
    import warnings
    import zipfile

    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # duplicate names are one of the cases
        for number in range(draw(st.integers(0, 5))):
            bad = draw(st.integers(0, 5)) == 0
            name = draw(_BAD_NAMES if bad else _GOOD_NAMES) if number else "_chat.txt"
            if number and not bad and draw(st.integers(0, 9)):
                name = f"{number}-{name}"  # mostly unique; now and then a duplicate
            info = zipfile.ZipInfo(name)
            info.compress_type = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
            if draw(st.integers(0, 9)) == 0:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            odd = st.sampled_from([b"PK\x03\x04", b"\x1f\x8b", bytes(3000)])
            other = st.binary(max_size=64) | odd
            body = draw(whatsapp_text() if number == 0 else other)
            archive.writestr(info, body)
    return buffer.getvalue()


ALL_SEEDS = [
    "whatsapp_android.txt",
    "whatsapp_ios.txt",
    "WhatsApp Chat - Sam Carter.zip",
    "telegram_chat.json",
    "telegram_full_export.json",
    "instagram_message_1.json",
    "sms-20240316080000.xml",
    "calls-20240316080000.xml",
    "harassment.eml",
    "screenshot.png",
]


def _variant_seeds() -> list[bytes]:
    """The WhatsApp shapes of issue 13 (fixtures/whatsapp/*.txt)."""
    return [path.read_bytes() for path in sorted((FIXTURES / "whatsapp").glob("*.txt"))]


def import_paths() -> dict[str, st.SearchStrategy[bytes]]:
    """One strategy per import path: structure-aware generation plus mutated fixtures."""
    seeds = {name: fixture(name) for name in ALL_SEEDS}
    return {
        "whatsapp-txt": whatsapp_text()
        | mutated([seeds["whatsapp_android.txt"], seeds["whatsapp_ios.txt"], *_variant_seeds()]),
        "whatsapp-zip": whatsapp_zip() | mutated([seeds["WhatsApp Chat - Sam Carter.zip"]]),
        "telegram": chat_json()
        | mutated([seeds["telegram_chat.json"], seeds["telegram_full_export.json"]]),
        "meta": chat_json() | mutated([seeds["instagram_message_1.json"]]),
        "sms-backup": sms_xml()
        | mutated([seeds["sms-20240316080000.xml"], seeds["calls-20240316080000.xml"]]),
        "eml": email_bytes() | mutated([seeds["harassment.eml"]]),
        "screenshot": mutated([seeds["screenshot.png"]]),
        "any-bytes": st.binary(max_size=512) | mutated(list(seeds.values())),
    }
