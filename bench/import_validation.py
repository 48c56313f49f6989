"""Benchmark: validating a stats import file, ours against a naive per-row approach.

    python -m bench.import_validation [--rows N]     (default 200,000)

Generates a stats CSV of N rows in a temporary directory (deterministic; 1% of rows have an
out-of-range progress), then, in the same process and on the same file:

(a) **ours**: ``integrations.imports.validate_file`` — streaming reader, precompiled field
    checks, duplicate detection, payloads in the exact v2 shape;
(b) **naive**: ``csv.DictReader``, a payload built per row, then per row a fresh jsonschema
    validator looked up and built for ImportExternalStatisticsDTO (the document itself is
    loaded once) and ``iter_errors`` on the payload. It checks less than (a) (no duplicates,
    no date order, no e-mail syntax), so the ratio is conservative.

Prints rows/s for each and the ratio; ``run(rows)`` returns the figures for ``python -m bench``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_ROWS = 200_000
BULK_DOCUMENT = Path(__file__).resolve().parents[1] / "sandbox" / "openapi" / "360learning-bulk-api.json"
HEADERS = (
    "courseExternalId",
    "userMail",
    "progress",
    "timeSpent",
    "firstActivityAt",
    "lastActivityAt",
    "score",
    "lang",
)
LANGS = ("en", "fr", "de", "es", "pt_BR")


def generate_stats_csv(path: Path, rows: int, *, seed: int = 20250708) -> None:
    """Write ``rows`` stats rows (plus header) to ``path``: unique learners, mixed date forms
    (``Z`` with milliseconds, ``+02:00`` offsets, naive), 1 row in 100 with progress 140."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for n in range(rows):
            day, hour = 1 + n % 28, rng.randrange(0, 20)
            first = f"2025-{1 + n % 12:02d}-{day:02d}"
            form = n % 3
            if form == 0:
                start, end = f"{first}T{hour:02d}:00:00.000Z", f"{first}T{hour + 2:02d}:15:00.000Z"
            elif form == 1:
                start, end = f"{first}T{hour + 2:02d}:00:00+02:00", f"{first}T{hour + 3:02d}:30:00+02:00"
            else:
                start, end = f"{first} {hour:02d}:00:00", f"{first} {hour + 1:02d}:45:00"
            writer.writerow(
                (
                    f"course-{n % 500}",
                    f"learner{n}@example.com",
                    140 if n % 100 == 99 else rng.randrange(0, 101),
                    rng.randrange(1, 10_000_000),
                    start,
                    end,
                    rng.randrange(0, 101),
                    LANGS[n % len(LANGS)],
                )
            )


def measure_ours(path: Path) -> dict[str, Any]:
    """Validate ``path`` with the product's reader and validator."""
    from integrations.imports import validate_file

    started = time.perf_counter()
    report = validate_file(path, kind="stats")
    seconds = time.perf_counter() - started
    return _figures(report.total, report.valid_count, report.invalid_count, seconds)


def _naive_payload(row: dict[str, str]) -> dict[str, Any]:
    return {
        "courseIdentifier": {"type": "externalId", "value": row["courseExternalId"]},
        "userIdentifier": {"type": "mail", "value": row["userMail"]},
        "progress": float(row["progress"]),
        "timeSpent": float(row["timeSpent"]),
        "firstActivityAt": row["firstActivityAt"],
        "lastActivityAt": row["lastActivityAt"],
        "score": float(row["score"]),
        "lang": row["lang"],
    }


def measure_naive(path: Path) -> dict[str, Any]:
    """Validate ``path`` row by row with jsonschema, a fresh validator per row."""
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.validators import validator_for
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    document = json.loads(BULK_DOCUMENT.read_text(encoding="utf-8"))
    registry = Registry().with_resource("urn:bulk", DRAFT202012.create_resource(document))
    schema = {"$ref": "urn:bulk#/components/schemas/ImportExternalStatisticsDTO"}
    format_checker = FormatChecker()
    valid = invalid = 0
    started = time.perf_counter()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                payload = _naive_payload(row)
            except (KeyError, ValueError):
                invalid += 1
                continue
            validator_class = validator_for(schema, default=Draft202012Validator)
            validator = validator_class(schema, registry=registry, format_checker=format_checker)
            if next(validator.iter_errors(payload), None) is None:
                valid += 1
            else:
                invalid += 1
    seconds = time.perf_counter() - started
    return _figures(valid + invalid, valid, invalid, seconds)


def _figures(rows: int, valid: int, invalid: int, seconds: float) -> dict[str, Any]:
    return {
        "rows": rows,
        "valid": valid,
        "invalid": invalid,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds) if seconds else None,
    }


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(rows: int = DEFAULT_ROWS) -> dict[str, Any]:
    """Generate the file, run both approaches on it, return the figures.

    Keys: ``rows``, ``file_mb``, ``ours`` and ``naive`` (each ``rows``, ``valid``, ``invalid``,
    ``seconds``, ``rows_per_s``), ``ratio`` (ours rows/s over naive rows/s), and
    ``peak_rss_mb_after_ours`` (process peak once ours has held the whole report).
    """
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        path = Path(folder) / "stats.csv"
        generate_stats_csv(path, rows)
        file_mb = round(path.stat().st_size / 1_048_576, 1)
        ours = measure_ours(path)
        peak = _peak_rss_mb()
        naive = measure_naive(path)
    if (ours["valid"], ours["invalid"]) != (naive["valid"], naive["invalid"]):
        raise AssertionError(f"the two approaches disagree: ours {ours}, naive {naive}")
    return {
        "rows": rows,
        "file_mb": file_mb,
        "ours": ours,
        "naive": naive,
        "ratio": round(ours["rows_per_s"] / naive["rows_per_s"], 1),
        "peak_rss_mb_after_ours": peak,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_validation", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, help=f"stats rows to generate (default {DEFAULT_ROWS:,})"
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    result = run(args.rows)
    out = sys.stdout
    out.write(f"stats CSV: {result['rows']:,} rows, {result['file_mb']} MB\n")
    for name in ("ours", "naive"):
        r = result[name]
        out.write(
            f"{name:>5}: {r['rows_per_s']:>9,} rows/s  ({r['seconds']:.2f} s; {r['valid']:,} valid, {r['invalid']:,} invalid)\n"
        )
    out.write(f"ratio: {result['ratio']}x faster\n")
    out.write(f"peak RSS after ours: {result['peak_rss_mb_after_ours']} MB\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
