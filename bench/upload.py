"""Benchmark: what a user waits on from an import upload to its preview (or a clear refusal).

    python -m bench.upload [--small] [--only sqlite|postgres] [--keep DIR] [--json]

The production processes, started from the Procfile through ``deploy/run`` on a scratch
database (a SQLite file; then a ``bench_…`` PostgreSQL database with Redis as broker and cache,
when both are reachable): ``web`` (gunicorn, ``WEB_CONCURRENCY=2``, the production timeout of
60 s) and one ``worker`` (``qcluster``), with ``IMPORT_MAX_UPLOAD_MB=60``. The sandbox LMS is
seeded in its own database and served while each product is prepared (``release``,
``add_connection``, ``pull_integrations``, ``sync_lms all``, so the preview's predictions know
the learners and courses), then stopped.

A ``requests`` session logs in as an L&D admin through the login form and, for each file (all
generated into the scratch folder, streamed, from the seeded learners and courses):

1. a valid stats CSV of 200,000 rows (~25 MB);
2. a stats CSV of 50 MB (~400k rows);
3. a JSON array of 1,000,000 tiny records (``[{"a":1},…]``);
4. a small XLSX whose second row has a cell in column XFD (16,384th column);
5. an XLSX zip bomb: a ``sharedStrings.xml`` of ~1 GB of repeated text (~1 MB compressed);
6. a JSON document nested 10,000 levels deep;
7. a UTF-16 CSV (with BOM) of 1,000 valid rows;
8. a 70 MB CSV, over the 60 MB upload limit,

posts the upload form as a browser does (multipart, the file streamed from disk, with its
Content-Length) and times the POST; then opens the draft page and polls it as htmx does
(``HX-Request``/``HX-Target: read-progress`` at the page's own ``hx-trigger`` interval) until the
poll answers ``HX-Redirect``, and opens the page it names: the preview (its counts), the
mapping step, or the refusal (its reason). Meanwhile a thread samples the resident memory of
every process of both servers every 0.1 s (``/proc/<pid>/status``), and each process's
high-water mark is reset before the file (``/proc/<pid>/clear_refs``) and read after it, so a
spike between two samples is not missed. The worker is started afresh before each file, so its
peak is that file's alone (the web process keeps running, as in production). The draft is then
discarded as a user would.

Baselines from the same run: the idle memory of the same processes before each file, reading
the file's bytes from disk (for the POST), and ``run_import --dry-run`` of the same file in
one process (for the whole wait), measured after the servers are stopped.

``run(**scale)`` returns every figure (for ``python -m bench``).
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import common
from tabular import column_letters

FULL = {
    "rows": 200_000,
    "big_mb": 50,
    "json_records": 1_000_000,
    "xlsx_rows": 2_500,
    "bomb_mb": 1_000,
    "depth": 10_000,
    "utf16_rows": 1_000,
    "limit_mb": 60,
    "over_mb": 70,
}
SMALL = {**FULL, "rows": 20_000, "big_mb": 5, "json_records": 100_000, "bomb_mb": 200, "limit_mb": 6, "over_mb": 7}
#: The sandbox tenant the files are made of: enough learners and courses for varied rows.
SEED = {"users": 2_000, "courses": 100, "attempts": 20_000, "paths": 2, "sessions": 2, "session-size": 500}
WEB_WORKERS = 2
WEB_TIMEOUT = common.WEB_TIMEOUT  # the Procfile's production default
ADMIN = ("bench-admin", "bench-admin-password-4242")
CONNECTION = "Bench LMS"
KIND = "stats"
STATS_HEADER = (
    "courseId",
    "userMail",
    "progress",
    "timeSpent",
    "firstActivityAt",
    "lastActivityAt",
    "score",
    "forceNew",
)
#: Targets of the issue: the upload answers at once, the processes stay small, and a valid
#: 200k-row file reaches its preview in 15 s.
POST_TARGET_S = 5.0
WEB_RSS_TARGET_MB = 250  # strictly under
WORKER_RSS_TARGET_MB = 250  # at most
READY_TARGET_S = 15.0
READY_TARGET_ROWS = 200_000
FILE_DEADLINE_S = 900.0


# Files ----------------------------------------------------------------------------------------
def stats_row(i: int, users: list[str], courses: list[str]) -> list[str]:
    """Row ``i`` of a valid stats file (tests/integrations/import_runs/conftest.py ``stats_rows``):
    a distinct first activity per row, so no two rows are duplicates."""
    first = datetime(2025, 3, 1, tzinfo=UTC) + timedelta(minutes=i)
    return [
        courses[i % len(courses)],
        users[(i // len(courses)) % len(users)],
        "100" if i % 3 == 0 else "40",
        str(60000 + i),
        first.strftime("%Y-%m-%dT%H:%M:%SZ"),
        (first + timedelta(seconds=50)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        str(i % 101),
        "true",
    ]


def write_stats_csv(
    path: Path,
    users: list[str],
    courses: list[str],
    *,
    rows: int | None = None,
    min_bytes: int | None = None,
    encoding: str = "utf-8",
) -> int:
    """Write a stats CSV of ``rows`` rows, or of rows until it has ``min_bytes``; its row count."""
    written = 0
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(STATS_HEADER)
        while (rows is None or written < rows) and (min_bytes is None or fh.tell() < min_bytes):
            block = 1000 if rows is None else min(1000, rows - written)
            writer.writerows(stats_row(written + n, users, courses) for n in range(block))
            written += block
    return written


def write_tiny_json(path: Path, records: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[")
        left = records
        while left:
            n = min(left, 10_000)
            left -= n
            fh.write(",".join(['{"a":1}'] * n) + ("," if left else ""))
        fh.write("]")


def write_deep_json(path: Path, depth: int) -> None:
    """An array holding one object nested ``depth - 1`` levels: ``depth`` levels in all."""
    path.write_text("[" + '{"a":' * (depth - 1) + "1" + "}" * (depth - 1) + "]", encoding="utf-8")


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _xlsx_package(zf: zipfile.ZipFile, *, shared_strings: bool) -> None:
    """Every part of a one-sheet workbook but the sheet and the shared strings."""
    override = (
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        if shared_strings
        else ""
    )
    zf.writestr(
        "[Content_Types].xml",
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        f"{override}</Types>",
    )
    zf.writestr(
        "_rels/.rels",
        f'{_XML}<Relationships xmlns="{_REL_NS}"><Relationship Id="rId1" '
        f'Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    )
    zf.writestr(
        "xl/workbook.xml",
        f'{_XML}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_DOC_REL}">'
        '<sheets><sheet name="Stats" sheetId="1" r:id="rId1"/></sheets></workbook>',
    )
    strings_rel = (
        f'<Relationship Id="rId2" Type="{_DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        if shared_strings
        else ""
    )
    zf.writestr(
        "xl/_rels/workbook.xml.rels",
        f'{_XML}<Relationships xmlns="{_REL_NS}"><Relationship Id="rId1" Type="{_DOC_REL}/worksheet" '
        f'Target="worksheets/sheet1.xml"/>{strings_rel}</Relationships>',
    )


def _cell(ref: str, value: str | int) -> str:
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{html.escape(value, quote=False)}</t></is></c>'


def _typed(row: list[str]) -> list[str | int]:
    """Numbers as numeric cells, as a spreadsheet stores them."""
    return [int(v) if i in (2, 3, 6) else v for i, v in enumerate(row)]


def write_xfd_xlsx(path: Path, users: list[str], courses: list[str], *, rows: int) -> None:
    """A header, ``rows`` valid rows, and one value in XFD2 (the 16,384th column, Excel's last),
    with the ``dimension`` Excel would write for it (A1:XFD…)."""
    last = column_letters(16_384)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _xlsx_package(zf, shared_strings=False)
        with zf.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                f'{_XML}<worksheet xmlns="{_MAIN_NS}"><dimension ref="A1:{last}{rows + 1}"/><sheetData>'.encode()
            )
            header = "".join(_cell(f"{column_letters(c + 1)}1", v) for c, v in enumerate(STATS_HEADER))
            sheet.write(f'<row r="1">{header}</row>'.encode())
            for i in range(rows):
                r = i + 2
                cells = "".join(
                    _cell(f"{column_letters(c + 1)}{r}", v) for c, v in enumerate(_typed(stats_row(i, users, courses)))
                )
                if r == 2:
                    cells += _cell(f"{last}{r}", "x")
                sheet.write(f'<row r="{r}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")


def write_bomb_xlsx(path: Path, users: list[str], courses: list[str], *, strings_bytes: int) -> int:
    """A workbook whose ``xl/sharedStrings.xml`` unpacks to ``strings_bytes``, nearly all of it
    one text of a repeated letter (deflated about a thousand times), written as a stream. The
    sheet's header and three rows are shared strings, and a fifth row's learner is that text.

    Returns the part's uncompressed size."""
    rows = [stats_row(i, users, courses) for i in range(3)]
    texts: list[str] = list(STATS_HEADER)
    index: dict[str, int] = {t: n for n, t in enumerate(texts)}
    for row in rows:
        for c, value in enumerate(row):
            if c not in (2, 3, 6) and value not in index:
                index[value] = len(texts)
                texts.append(value)
    bomb = len(texts)  # the index of the big text

    def cells(r: int, row: list[str], learner: int | None = None) -> str:
        return "".join(
            f'<c r="{column_letters(c + 1)}{r}"><v>{v}</v></c>'
            if c in (2, 3, 6)
            else f'<c r="{column_letters(c + 1)}{r}" t="s"><v>{learner if c == 1 and learner is not None else index[v]}</v></c>'
            for c, v in enumerate(row)
        )

    header = "".join(f'<c r="{column_letters(c + 1)}1" t="s"><v>{c}</v></c>' for c in range(len(STATS_HEADER)))
    sheet_rows = [f'<row r="1">{header}</row>']
    sheet_rows += [f'<row r="{r}">{cells(r, row)}</row>' for r, row in enumerate(rows, start=2)]
    sheet_rows.append(f'<row r="5">{cells(5, rows[0], learner=bomb)}</row>')
    start = (
        f'{_XML}<sst xmlns="{_MAIN_NS}" count="{bomb + 1}" uniqueCount="{bomb + 1}">'
        + "".join(f"<si><t>{html.escape(t, quote=False)}</t></si>" for t in texts)
        + "<si><t>"
    ).encode()
    end = b"</t></si></sst>"
    left = max(1, strings_bytes - len(start) - len(end))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _xlsx_package(zf, shared_strings=True)
        zf.writestr(
            "xl/worksheets/sheet1.xml",
            f'{_XML}<worksheet xmlns="{_MAIN_NS}"><dimension ref="A1:H5"/><sheetData>'
            + "".join(sheet_rows)
            + "</sheetData></worksheet>",
        )
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(start)
            block = b"A" * (1 << 20)
            written = len(start) + left + len(end)
            while left:
                n = min(left, len(block))
                part.write(block if n == len(block) else block[:n])
                left -= n
            part.write(end)
    return written


def make_files(folder: Path, users: list[str], courses: list[str], scale: dict[str, int]) -> dict[str, dict]:
    """Generate the eight files; per key, its label, path, size and what it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    mb = 1_000_000
    files: dict[str, dict] = {}

    def add(key: str, label: str, path: Path, **facts: Any) -> None:
        files[key] = {"label": label, "path": str(path), "bytes": path.stat().st_size, **facts}

    path = folder / "stats-200k.csv"
    rows = write_stats_csv(path, users, courses, rows=scale["rows"])
    add("csv_valid", f"valid {rows:,}-row stats CSV", path, rows=rows, expect="preview")
    path = folder / "stats-big.csv"
    rows = write_stats_csv(path, users, courses, min_bytes=scale["big_mb"] * mb)
    add("csv_big", f"{scale['big_mb']} MB stats CSV ({rows:,} rows)", path, rows=rows, expect="preview")
    path = folder / "tiny-records.json"
    write_tiny_json(path, scale["json_records"])
    add("json_tiny", f'JSON of {scale["json_records"]:,} tiny records ([{{"a":1}},…])', path)
    path = folder / "column-xfd.xlsx"
    write_xfd_xlsx(path, users, courses, rows=scale["xlsx_rows"])
    add("xlsx_xfd", f"XLSX, {scale['xlsx_rows']:,} rows and a cell in column XFD", path)
    path = folder / "bomb.xlsx"
    unpacked = write_bomb_xlsx(path, users, courses, strings_bytes=scale["bomb_mb"] * mb)
    add("xlsx_bomb", f"XLSX zip bomb (sharedStrings.xml unpacks to {unpacked / mb:,.0f} MB)", path, unpacked=unpacked)
    path = folder / "deep.json"
    write_deep_json(path, scale["depth"])
    add("json_deep", f"JSON nested {scale['depth']:,} levels deep", path)
    path = folder / "stats-utf16.csv"
    rows = write_stats_csv(path, users, courses, rows=scale["utf16_rows"], encoding="utf-16")
    add("csv_utf16", f"UTF-16 CSV (BOM), {rows:,} valid rows", path, rows=rows, expect="preview")
    path = folder / "over-limit.csv"
    rows = write_stats_csv(path, users, courses, min_bytes=scale["over_mb"] * mb)
    add(
        "csv_over",
        f"{scale['over_mb']} MB CSV over the {scale['limit_mb']} MB upload limit",
        path,
        rows=rows,
        expect="refused at upload",
    )
    for info in files.values():
        info["mb"] = round(info["bytes"] / mb, 2)
    return files


# The browser ------------------------------------------------------------------------------------
class MultipartFile:
    """A ``multipart/form-data`` body whose file part is read from disk as it is sent:
    ``requests`` sends it with its Content-Length, as a browser does, without holding it."""

    def __init__(self, fields: dict[str, str], *, name: str, path: Path, content_type: str) -> None:
        self.boundary = f"----bench{uuid.uuid4().hex}"
        head = "".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{path.name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._length = len(head.encode()) + path.stat().st_size + len(tail)
        self._parts: list[Any] = [io.BytesIO(head.encode()), path.open("rb"), io.BytesIO(tail)]

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        out = b""
        while self._parts and (size < 0 or len(out) < size):
            chunk = self._parts[0].read(-1 if size < 0 else size - len(out))
            if not chunk:
                self._parts.pop(0).close()
                continue
            out += chunk
        return out

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(256 * 1024):
            yield chunk

    def close(self) -> None:
        for part in self._parts:
            part.close()


CONTENT_TYPES = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def classify(response) -> dict[str, Any]:
    """What a draft page shows: ``reading``, ``preview`` (counts), ``mapping``, ``refused`` (reason),
    ``refused at upload`` (the form's error), or ``error`` (a status that is not a page)."""
    body = response.text
    status = response.status_code
    if status >= 400:
        return {"kind": "error", "status": status, "text": f"HTTP {status}: {common.html_text(body)[:200]}"}
    if 'id="read-progress"' in body:
        return {"kind": "reading"}
    if response.url.rstrip("/").endswith("/mapping"):
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S)
        columns = re.findall(r"<option value=\"([^\"]+)\"", body)
        return {
            "kind": "mapping",
            "text": f"mapping step: {common.html_text(heading[1]) if heading else 'map the columns'} "
            f"(file columns: {', '.join(sorted(set(map(html.unescape, columns))))[:120]})",
        }
    refused = re.search(r'id="file-refused">(.*?)</div>', body, re.S)
    if refused:
        return {"kind": "refused", "text": common.html_text(refused[1])}
    counts = re.search(r'<ul class="counts".*?</ul>', body, re.S)
    if counts:
        numbers = [int(n.replace(",", "")) for n in re.findall(r"<strong>([\d,]+)</strong>", counts[0])]
        predicted = {
            common.html_text(a): int(b.replace(",", ""))
            for a, b in re.findall(r"<tr><td>(.*?)</td><td class=\"num\">([\d,]+)</td></tr>", body)
        }
        total, valid, invalid = ([*numbers, None, None, None])[:3]
        return {
            "kind": "preview",
            "total": total,
            "valid": valid,
            "invalid": invalid,
            "predicted": predicted,
            "send_button": "Send the" in body,
            "text": f"preview: {total:,} rows, {valid:,} valid, {invalid:,} invalid"
            if None not in (total, valid, invalid)
            else "preview (counts not found)",
        }
    # The form's error summary (templates/_form_fields.html): each error an item of its list.
    summary = re.search(r'<div class="error-summary"[^>]*>.*?<ul>(.*?)</ul>', body, re.S)
    if summary:
        return {
            "kind": "refused at upload",
            "text": " ".join(common.html_text(e) for e in re.findall(r"<li>(.*?)</li>", summary[1], re.S)),
        }
    errors = re.findall(r'class="(?:field-errors|form-errors)" role="alert">(.*?)</div>', body, re.S)
    if errors:
        return {"kind": "refused at upload", "text": " ".join(common.html_text(e) for e in errors)}
    return {"kind": "unknown", "status": status, "text": common.html_text(body)[:200]}


def disk_read_seconds(path: Path) -> float:
    began = time.perf_counter()
    with path.open("rb") as fh:
        while fh.read(1 << 20):
            pass
    return time.perf_counter() - began


def measure_file(
    browser: common.Browser, servers: common.Servers, info: dict, *, integration_pk: int, deadline_s: float
) -> dict[str, Any]:
    """Upload one file and wait for its preview or refusal as the browser does; every figure."""
    path = Path(info["path"])
    result: dict[str, Any] = {"disk_read_seconds": round(disk_read_seconds(path), 3)}
    # A fresh qcluster per file: its processes' peak is this file's, whatever was read before
    # (a task process keeps the memory of its largest read; "after_process_mb" shows it).
    servers.restart_worker()
    token = browser.form_token("/imports/new/")
    offsets = common.log_offsets(servers.folder)
    result["idle"] = servers.sampler.begin()
    body = MultipartFile(
        {"csrfmiddlewaretoken": token, "integration": str(integration_pk), "kind": KIND},
        name="file",
        path=path,
        content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
    )
    began = time.monotonic()
    polls: list[float] = []
    poll_errors: list[str] = []
    progress: list[tuple[float, str]] = []
    outcome: dict[str, Any]
    run_path: str | None = None
    try:
        answer = browser.session.post(
            browser.url("/imports/new/"),
            data=body,
            headers={"Content-Type": body.content_type, "Referer": browser.url("/imports/new/")},
            allow_redirects=False,
            timeout=300,
        )
        result["post_seconds"] = round(time.monotonic() - began, 3)
        result["post_status"] = answer.status_code
    except Exception as error:  # noqa: BLE001 - a dropped connection is a figure, not a crash
        result["post_seconds"] = round(time.monotonic() - began, 3)
        result["post_status"] = None
        answer = None
        outcome = {"kind": "error", "text": f"upload POST failed: {type(error).__name__}: {str(error)[:200]}"}
    finally:
        body.close()
    if answer is not None:
        if answer.status_code == 302:
            run_path = answer.headers["Location"]
            page = browser.session.get(browser.url(run_path), timeout=120)
            outcome = classify(page)
            interval = _poll_interval(page.text)
            while outcome["kind"] == "reading":
                if servers.sampler.too_big:
                    pid, mb = servers.sampler.too_big
                    servers.restart_worker(f"a worker process (pid {pid}) reached {mb:,.0f} MB")
                    outcome = {"kind": "killed", "text": f"stopped by the bench: worker pid {pid} at {mb:,.0f} MB"}
                    break
                if time.monotonic() - began > deadline_s:
                    outcome = {"kind": "timeout", "text": f"still reading after {deadline_s:.0f} s"}
                    break
                time.sleep(interval)
                sent = time.monotonic()
                try:
                    poll = browser.session.get(
                        browser.url(run_path),
                        headers={"HX-Request": "true", "HX-Target": "read-progress", "HX-Trigger": "read-progress"},
                        allow_redirects=False,
                        timeout=120,
                    )
                except Exception as error:  # noqa: BLE001 - htmx keeps polling after a failed request
                    poll_errors.append(f"{type(error).__name__}")
                    continue
                polls.append(time.monotonic() - sent)
                if poll.status_code != 200:
                    poll_errors.append(f"HTTP {poll.status_code}")
                    continue
                if "HX-Redirect" in poll.headers:
                    page = browser.session.get(browser.url(poll.headers["HX-Redirect"]), timeout=120)
                    outcome = classify(page)
                    continue
                checked = re.search(r'role="status">(.*?)</span>', poll.text, re.S)
                if checked:
                    progress.append((round(time.monotonic() - began, 1), common.html_text(checked[1])))
            final_page = page
        else:
            outcome = classify(answer)
            final_page = answer
    result["ready_seconds"] = round(time.monotonic() - began, 2)
    result["peaks"] = servers.sampler.end()
    result["outcome"] = outcome
    result["polls"] = len(polls)
    result["poll_ms"] = {
        "p50": round(statistics.median(polls) * 1000, 1) if polls else None,
        "max": round(max(polls) * 1000, 1) if polls else None,
    }
    result["poll_errors"] = poll_errors[:20]
    result["progress"] = progress[:: max(1, len(progress) // 10)][:12]
    result["worker_alive"] = servers.worker.poll() is None
    result["web_alive"] = servers.web.poll() is None
    if run_path and outcome["kind"] != "error":
        result["discard"] = _discard(browser, run_path, final_page.text if answer is not None else "")
    if outcome["kind"] == "timeout" and servers.worker.poll() is None:
        # The read may go on for up to Q_TIMEOUT: the next file gets a fresh worker.
        servers.restart_worker(f"after {info['label']}: {outcome['kind']}")
    result["log_lines"] = common.log_news(servers.folder, offsets)
    return result


def _poll_interval(page: str) -> float:
    """The page's own polling interval (``hx-trigger="every 1s"``)."""
    found = re.search(r'hx-trigger="every (\d+(?:\.\d+)?)(ms|s)"', page)
    if not found:
        return 1.0
    return float(found[1]) / (1000 if found[2] == "ms" else 1)


def _discard(browser: common.Browser, run_path: str, page: str) -> dict[str, Any]:
    """Discard the draft as the user would (``Discard this draft`` / ``Dismiss``)."""
    began = time.monotonic()
    try:
        answer = browser.session.post(
            browser.url(run_path.rstrip("/") + "/cancel/"),
            data={"csrfmiddlewaretoken": browser.csrf(page)},
            headers={"Referer": browser.url(run_path)},
            allow_redirects=False,
            timeout=120,
        )
        status: int | str = answer.status_code
    except Exception as error:  # noqa: BLE001 - reported with the file's figures
        status = type(error).__name__
    return {"seconds": round(time.monotonic() - began, 2), "status": status}


# Children (Django set up on the product database) ----------------------------------------------
def _child_main(argv: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms_admin.settings")
    django.setup()
    what, *rest = argv
    answers = {"prepare": _child_prepare, "dry-run": _child_dry_run}
    if what not in answers:
        raise SystemExit(f"unknown child measurement {what!r}")
    sys.stdout.write(json.dumps(answers[what](*rest)) + "\n")
    return 0


def _child_prepare() -> dict[str, Any]:
    """The L&D admin who uploads, and the integration the files go to."""
    from django.contrib.auth.models import Group, User

    from integrations.models import Integration
    from lms_admin.roles import ADMIN_GROUP

    user, _ = User.objects.get_or_create(username=ADMIN[0], defaults={"email": "admin@bench.example"})
    user.set_password(ADMIN[1])
    user.save()
    user.groups.add(Group.objects.get_or_create(name=ADMIN_GROUP)[0])
    integration = Integration.objects.filter(
        connection__name=CONNECTION, external_platform="Sandbox Academy", removed_remotely_at__isnull=True
    ).first()
    if integration is None:
        raise SystemExit("pull_integrations adopted no 'Sandbox Academy' integration")
    return {"integration_pk": integration.pk, "integration_remote_id": integration.remote_id}


def _child_dry_run(path: str, remote_id: str) -> dict[str, Any]:
    """``run_import stats FILE --dry-run`` in this process: its time and its outcome."""
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    began = time.perf_counter()
    try:
        call_command("run_import", KIND, path, "--integration", remote_id, "--dry-run", stdout=out, stderr=out)
        error = None
    except CommandError as exc:
        error = str(exc)
    seconds = time.perf_counter() - began
    first = next((line for line in out.getvalue().splitlines() if line.strip()), "")
    return {"seconds": round(seconds, 2), "report": first, "error": error}


def _child(env: dict[str, str], folder: Path, *args: str, timeout: float = 3600) -> dict[str, Any]:
    result = common.measured(
        [sys.executable, "-m", "bench.upload", "--child", *args], env, folder=folder, timeout=timeout
    )
    answer = json.loads(result["stdout"].strip().splitlines()[-1])
    answer["process_seconds"] = result["seconds"]
    answer["peak_rss_mb"] = result["peak_rss_mb"]
    return answer


# The benchmark --------------------------------------------------------------------------------
def _seed_lms(folder: Path) -> tuple[dict[str, str], dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    env = common.product_env(folder, common.sqlite_url(folder / "lms.sqlite3"), LMS_PLAIN_STATIC="1")
    common.manage(env, "migrate", "--noinput")
    began = time.monotonic()
    common.manage(env, "seed_sandbox", *(f"--{k}={v}" for k, v in SEED.items()), "--ispring-results=100")
    return env, {"seed": SEED, "seed_seconds": round(time.monotonic() - began, 1)}


def _learners(lms_db: Path) -> tuple[list[str], list[str]]:
    """The seeded tenant's active learners and published courses (what a valid file names)."""
    import sqlite3

    with sqlite3.connect(lms_db) as db:
        users = [r[0] for r in db.execute("SELECT mail FROM sandbox_user WHERE status = 'active' ORDER BY id")]
        courses = [r[0] for r in db.execute("SELECT oid FROM sandbox_course WHERE status = 'published' ORDER BY id")]
    if not users or not courses:
        raise RuntimeError("the seeded sandbox has no active learner or no published course")
    return users, courses


def _prepare_product(
    stack: ExitStack, kind: str, folder: Path, lms_url: str, *, limit_mb: int, postgres_url: str, redis_url: str | None
) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    extra = {"IMPORT_MAX_UPLOAD_MB": str(limit_mb), "DB_CONN_MAX_AGE": "60"}
    if kind == "sqlite":
        env = common.product_env(folder, common.sqlite_url(folder / "product.sqlite3"), **extra)
    else:
        database_url = stack.enter_context(common.scratch_postgres(postgres_url, label="upload"))
        env = common.product_env(folder, database_url, redis_url=redis_url, **extra)
    info: dict[str, Any] = {"broker": "redis" if env.get("REDIS_URL") else "orm"}
    info["release_seconds"] = round(common.procfile_run("release", env, log=folder / "release.log"), 1)
    common.manage(
        env, "add_connection", CONNECTION, "--provider", "360learning", "--base-url", f"{lms_url}/sandbox/360",
        "--client-id", "sandbox-client", "--client-secret", "sandbox-secret",
        "--company-id", "sandbox-company", "--api-key", "sandbox-api-key",
    )  # fmt: skip
    common.manage(env, "pull_integrations", "--connection", CONNECTION)
    began = time.monotonic()
    common.manage(env, "sync_lms", "all", "--connection", CONNECTION)
    info["sync_seconds"] = round(time.monotonic() - began, 1)
    info.update(_child(env, folder, "prepare"))
    info["env"] = env
    return info


def _measure_product(
    info: dict[str, Any], folder: Path, files: dict[str, dict], *, deadline_s: float
) -> dict[str, Any]:
    env = info.pop("env")
    measured: dict[str, Any] = {}
    # The machine is shared: what else ran is part of the figures.
    info["load_average"] = {"start": common.load_average()}
    info["busy_at_start"] = common.other_busy_processes()
    servers = common.Servers(env, folder, web_workers=WEB_WORKERS, web_timeout=WEB_TIMEOUT)
    try:
        browser = common.Browser(servers.url, agent="bench/upload")
        browser.log_in(*ADMIN)
        for key, file in files.items():
            sys.stderr.write(f"  {folder.name}: {file['label']} …\n")
            measured[key] = measure_file(
                browser, servers, file, integration_pk=info["integration_pk"], deadline_s=deadline_s
            )
            figures = measured[key]
            sys.stderr.write(
                f"    POST {figures['post_seconds']} s, ready {figures['ready_seconds']} s: "
                f"{figures['outcome'].get('text', figures['outcome']['kind'])[:150]}; RSS web "
                f"{figures['peaks']['web']['process_mb']} MB, worker {figures['peaks']['worker']['process_mb']} MB\n"
            )
            time.sleep(1.0)
        info["restarts"] = servers.restarts
    finally:
        servers.close()
    info["load_average"]["end"] = common.load_average()
    # Baselines, the servers stopped: the same files read in one process by the command line.
    dry: dict[str, Any] = {}
    for key, file in files.items():
        try:
            dry[key] = _child(env, folder, "dry-run", file["path"], info["integration_remote_id"], timeout=deadline_s)
        except RuntimeError as error:
            dry[key] = {"failed": str(error)[-500:]}
    info["files"] = measured
    info["dry_run"] = dry
    return info


def _code_state() -> dict[str, Any]:
    """The commit the servers ran, and the files changed but not committed (other work in progress)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=common.ROOT, capture_output=True, text=True, check=False, timeout=30
        ).stdout.strip()

    return {
        "head": git("rev-parse", "--short", "HEAD"),
        "uncommitted": git("status", "--short", "--", ".").splitlines(),
    }


def run(
    *,
    rows: int = FULL["rows"],
    big_mb: int = FULL["big_mb"],
    json_records: int = FULL["json_records"],
    xlsx_rows: int = FULL["xlsx_rows"],
    bomb_mb: int = FULL["bomb_mb"],
    depth: int = FULL["depth"],
    utf16_rows: int = FULL["utf16_rows"],
    limit_mb: int = FULL["limit_mb"],
    over_mb: int = FULL["over_mb"],
    databases: tuple[str, ...] | list[str] = ("sqlite", "postgres"),
    postgres_url: str = common.DEFAULT_POSTGRES_URL,
    redis_url: str = common.DEFAULT_REDIS_URL,
    deadline_s: float = FILE_DEADLINE_S,
    keep: str | None = None,
) -> dict[str, Any]:
    """Seed, prepare each product, upload every file, run the baselines (module docstring).

    Returns ``files`` (what was uploaded) and, per database, ``files`` (per file: POST and
    ready seconds, outcome, idle and peak RSS of web and worker, polls, log lines) and
    ``dry_run`` (per file: ``run_import --dry-run`` seconds, peak RSS, outcome); a database
    that cannot be reached is ``{"skipped": reason}``.
    """
    scale = {
        "rows": rows, "big_mb": big_mb, "json_records": json_records, "xlsx_rows": xlsx_rows, "bomb_mb": bomb_mb,
        "depth": depth, "utf16_rows": utf16_rows, "limit_mb": limit_mb, "over_mb": over_mb,
    }  # fmt: skip
    folder = Path(keep) if keep else common.scratch_folder("upload")
    folder.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "scale": scale,
        "web_workers": WEB_WORKERS,
        "web_timeout": WEB_TIMEOUT,
        "procfile": {name: common.procfile_commands()[name] for name in ("web", "worker")},
        "code": _code_state(),
        "databases": {},
    }
    try:
        with ExitStack() as stack:
            lms_env, result["lms"] = _seed_lms(folder / "lms")
            users, courses = _learners(folder / "lms" / "lms.sqlite3")
            began = time.monotonic()
            files = make_files(folder / "files", users, courses, scale)
            result["files_seconds"] = round(time.monotonic() - began, 1)
            result["files"] = {key: {k: v for k, v in file.items() if k != "path"} for key, file in files.items()}
            products: dict[str, dict[str, Any]] = {}
            with common.lms_server(lms_env) as lms_url:
                for kind in databases:
                    redis = None
                    if kind == "postgres":
                        if common.postgres_version(postgres_url) is None:
                            result["databases"][kind] = {"skipped": f"PostgreSQL unreachable at {postgres_url}"}
                            continue
                        redis = common.redis_scratch_url(redis_url)
                        if redis is None:
                            result["databases"][kind] = {"skipped": f"Redis unreachable at {redis_url}"}
                            continue
                    products[kind] = _prepare_product(
                        stack,
                        kind,
                        folder / kind,
                        lms_url,
                        limit_mb=limit_mb,
                        postgres_url=postgres_url,
                        redis_url=redis,
                    )
            # The LMS is stopped: the product's processes have the machine to themselves.
            for kind, info in products.items():
                result["databases"][kind] = _measure_product(info, folder / kind, files, deadline_s=deadline_s)
    finally:
        if not keep:
            common.remove(folder)
    return result


# Summary ----------------------------------------------------------------------------------------
def summary(result: dict[str, Any]) -> str:
    lines = [f"code: {result['code']['head']}, uncommitted: {len(result['code']['uncommitted'])} file(s)"]
    for kind, info in result["databases"].items():
        lines.append(
            f"\n== {kind}" + (f": skipped ({info['skipped']})" if "skipped" in info else f" (broker {info['broker']})")
        )
        for key, figures in info.get("files", {}).items():
            file, dry = result["files"][key], info["dry_run"].get(key, {})
            peaks, idle = figures["peaks"], figures["idle"]
            lines.append(f"{file['label']} ({file['mb']} MB)")
            lines.append(
                f"  POST {figures['post_seconds']} s (HTTP {figures['post_status']}; disk read {figures['disk_read_seconds']} s), "
                f"ready in {figures['ready_seconds']} s, {figures['polls']} polls (p50 {figures['poll_ms']['p50']} ms, "
                f"max {figures['poll_ms']['max']} ms)"
            )
            lines.append(f"  outcome: {figures['outcome'].get('text', figures['outcome']['kind'])}")
            lines.append(
                f"  RSS web {peaks['web']['process_mb']} MB (idle {idle['web']['process_mb']}), worker "
                f"{peaks['worker']['process_mb']} MB (idle {idle['worker']['process_mb']}, after {peaks['worker'].get('after_process_mb')}, tree {peaks['worker']['sum_mb']})"
            )
            lines.append(
                f"  run_import --dry-run: {dry.get('seconds')} s, {dry.get('peak_rss_mb')} MB: "
                f"{dry.get('error') or dry.get('report') or dry.get('failed', '')[:200]}"
            )
            for line in figures.get("log_lines", []):
                lines.append(f"  log: {line}")
            if figures.get("discard"):
                lines.append(f"  discard: {figures['discard']}")
        if info.get("restarts"):
            lines.append(f"worker restarts: {info['restarts']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.upload", description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help=f"small files: {SMALL}")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one database only")
    parser.add_argument("--postgres-url", default=common.DEFAULT_POSTGRES_URL, help="server for scratch databases")
    parser.add_argument("--redis-url", default=common.DEFAULT_REDIS_URL, help="Redis for the PostgreSQL run")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (files, databases, logs)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = parser.parse_args(argv)
    result = run(
        **(SMALL if args.small else FULL),
        databases=(args.only,) if args.only else ("sqlite", "postgres"),
        postgres_url=args.postgres_url,
        redis_url=args.redis_url,
        keep=args.keep,
    )
    sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n" if args.json else summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
