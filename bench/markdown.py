"""Markdown rendering time against the text's size, for normal and adversarial texts up to the
longest text a proposal may hold (proposals.limits.TEXT_MAX_LENGTH): the renderer's time grows
in proportion to the text, whatever the text.

    python -m bench.markdown            # sizes 1k, 10k, 50k, 100k characters, best of 3
    python -m bench.markdown --quick    # 1k and 10k, once

It needs no database; `python -m bench` runs it as its `markdown` phase.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.generate import proposal_text
from proposals.limits import TEXT_MAX_LENGTH
from proposals.markdown import markdown_to_html

SIZES = [1_000, 10_000, 50_000, TEXT_MAX_LENGTH]
QUICK_SIZES = [1_000, 10_000]


def normal(size: int) -> str:
    """Generated proposals (headings, paragraphs, lists) one after another."""
    rng = random.Random(size)
    parts: list[str] = []
    length = 0
    while length < size:
        parts.append(proposal_text(rng, len(parts)))
        length += len(parts[-1]) + 2
    return "\n\n".join(parts)


def repeated(unit: str) -> Callable[[int], str]:
    return lambda size: unit * (size // len(unit))


def brackets(size: int) -> str:
    return "[" * (size // 2) + "(" * (size // 2)


def backtick_runs(size: int) -> str:
    runs: list[str] = []
    length, run = 0, 1
    while length < size:
        runs.append("`" * run + "a")
        length += run + 1
        run += 1
    return "".join(runs)


def wide_tables(size: int) -> str:
    """Tables of 125 columns whose rows hold one cell each: markdown-it pads every row."""
    table = "|a" * 125 + "|\n" + "|-" * 125 + "|\n" + "x\n" * 250
    return "\n".join([table] * max(size // len(table), 1))


def reference_reused(size: int) -> str:
    """One reference whose target is half the text, used in the other half."""
    target = "https://example.org/" + "u" * (size // 2)
    return f"[r]: {target}\n\n" + "[r] " * (size // 8)


KINDS: dict[str, Callable[[int], str]] = {
    "normal: generated proposals": normal,
    "brackets then parentheses (stopped Python-Markdown)": brackets,
    "image openers": repeated("!["),
    "unclosed emphasis": repeated("*a "),
    "nested blockquotes": repeated("> "),
    "nested lists": repeated("- "),
    "growing backtick runs": backtick_runs,
    "wide tables of short rows": wide_tables,
    "a long reference reused": reference_reused,
}


def best_ms(text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        markdown_to_html(text)
        times.append(time.perf_counter() - started)
    return round(min(times) * 1000, 1)


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Milliseconds to render each kind of text at each size (the best of `markdown_repeat`)."""
    sizes = config.get("markdown_sizes", SIZES)
    repeat = config.get("markdown_repeat", 3)
    return {
        "sizes": sizes,
        "repeat": repeat,
        "ms": {
            name: [best_ms(make(size), repeat) for size in sizes] for name, make in KINDS.items()
        },
    }


def table(result: dict[str, Any]) -> list[str]:
    """The result as a Markdown table: a row per kind of text, a column per size."""
    sizes = result["sizes"]
    out = [
        "| text | " + " | ".join(f"{size:,} chars" for size in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for name, values in result["ms"].items():
        out.append(f"| {name} | " + " | ".join(f"{value:,} ms" for value in values) + " |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.markdown", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="sizes 1k and 10k, once")
    args = parser.parse_args(argv)
    config = {"markdown_sizes": QUICK_SIZES, "markdown_repeat": 1} if args.quick else {}
    print("\n".join(table(run(config))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
