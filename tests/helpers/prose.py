"""The numbers a results README quotes, and the numbers its folder's generated files hold.

The convention (docs/results.md, "Numbers in the prose"): every number in a README's prose is
one of the folder's generated numbers (report.md, the other .md and .csv files, subfolders
too) rounded to the quoted precision, or a setting of the commands the README shows, or it
carries a footnote saying where it comes from: `0.842[^zalando]` or `1050 s[^clock]` (after its unit) and, on a line of its own,
`[^zalando]: Zalando's benchmark table.` Code (commands, option values as typed), link
targets, HTML comments, footnote definitions, the heading's report number and a year after an
author's name (Krogh & Hertz 1991) are not prose."""

import bisect
import re
import shlex
from decimal import Decimal
from pathlib import Path

from omegaconf import OmegaConf

from tests.helpers.docs import readme_commands
from wdbench.config.compose import CONF_DIR, compose_run, flatten

# A number not glued to a word (L2, d2l) or to a section or issue sign (§5, #25): digits
# with optional thousands commas, decimals, an exponent (1e-4) and a percent sign.
QUOTED = re.compile(r"(?<![\w.#§])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:e([-+−]?\d+))?(%)?")
GENERATED = re.compile(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# Code spans, link targets, the heading's report number, a citation's year.
NOT_PROSE = re.compile(r"`[^`\n]*`|\]\([^)]*\)|^#+ \d+\.|[A-Z][\w'’]*,? \(?(?:19|20)\d\d\b")
FOOTNOTE_DEFINITION = re.compile(r"^\[\^[\w-]+\]:")
# A footnote right after the number, its unit or its range: 0.842[^zalando], 1050 s[^clock],
# 36-52%[^cuts].
FOOTNOTED = re.compile(r"(?:[-–][\d.,]+)?(?: ?[^\s\d\[\]]{1,8})?\[\^")
FOOTNOTE = re.compile(r"\[\^([\w-]+)\](?!:)")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of each prose line, without what is not prose: fenced code, code
    indented after a blank line, footnote definitions with their indented continuations."""
    text = COMMENT.sub(lambda m: "\n" * m.group().count("\n"), text)
    lines, fence, previous_blank, outside = [], False, True, None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fence = not fence
        elif fence:
            continue
        elif not line.strip():
            previous_blank, outside = True, None
            continue
        elif FOOTNOTE_DEFINITION.match(line):
            outside = "footnote"
        elif line.startswith("    ") and (outside or previous_blank):
            outside = outside or "code"
        else:
            lines.append((number, NOT_PROSE.sub(" ", line)))
            outside = None
        previous_blank = False
    return lines


def quoted_numbers(text: str) -> list[tuple[int, str, Decimal, Decimal]]:
    """(line, as written, value, half a unit of its last digit) for each number in the prose
    that carries no footnote; a percentage is given as a fraction."""
    found = []
    for number, line in prose_lines(text):
        for match in QUOTED.finditer(line):
            if FOOTNOTED.match(line, match.end()):
                continue
            whole, fraction, exponent, percent = match.groups()
            digits = Decimal(whole.replace(",", "") + (fraction or ""))
            scale = Decimal(10) ** int((exponent or "0").replace("−", "-"))
            half = Decimal(5) * Decimal(10) ** -len(fraction or ".") * scale
            value = digits * scale
            if percent:
                value, half = value / 100, half / 100
            found.append((number, match.group(), value, half))
    return found


def footnotes(text: str) -> tuple[set[str], set[str]]:
    """The footnotes referred to in the prose, and those defined."""
    used = {name for _, line in prose_lines(text) for name in FOOTNOTE.findall(line)}
    defined = {m.group()[2:-2] for line in text.splitlines()
               if (m := FOOTNOTE_DEFINITION.match(line))}
    return used, defined


def generated_numbers(folder: Path) -> list[Decimal]:
    """Every number in the folder's generated files (all .md but READMEs, all .csv), sorted."""
    files = [p for p in sorted(folder.rglob("*")) if p.suffix in {".md", ".csv"}
             and p.name != "README.md"]
    return sorted({Decimal(n) for p in files for n in GENERATED.findall(p.read_text())})


def setting_numbers(text: str) -> list[Decimal]:
    """The numbers in the README's commands and in the config each `python -m wdbench`
    command composes (its experiment's grid included): the settings the prose may quote."""
    commands = list(readme_commands(text))
    numbers = {Decimal(n) for c in commands for n in GENERATED.findall(c)}
    for command in commands:
        if command.startswith("python -m wdbench"):
            numbers |= config_numbers(shlex.split(command)[3:])
    return sorted(numbers)


def config_numbers(overrides: list[str]) -> set[Decimal]:
    """Numbers in the composed config of one run (a swept override's values count too)."""
    kept = [o for o in overrides if not o.startswith("hydra") and "," not in o]
    cfg, _ = compose_run([o for o in kept if o != "-m"])
    values = flatten(OmegaConf.to_container(cfg, resolve=False))
    experiment = next((o.split("=", 1)[1] for o in kept if o.startswith("+experiment=")), None)
    texts = [str(v) for v in values.values()] + overrides
    if experiment:
        texts.append((CONF_DIR / "experiment" / f"{experiment}.yaml").read_text())
    return {Decimal(n) for t in texts for n in GENERATED.findall(t)}


def is_quoted_from(value: Decimal, half: Decimal, numbers: list[Decimal]) -> bool:
    """Whether some number rounds to the quoted value at its precision."""
    low = bisect.bisect_left(numbers, value - half)
    return low < len(numbers) and numbers[low] <= value + half
