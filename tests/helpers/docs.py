"""The commands README.md and docs/*.md show: their shell code blocks, one normalised command
per line (single spaces, comments dropped, backslash continuations joined)."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

HARDWARE = re.compile(r"#\s*needs (a GPU|\d+ GPUs|several GPUs|several nodes|a SLURM cluster)")
SHELL_FENCES = {"", "bash", "sh", "shell", "console"}


def code_blocks(text: str) -> list[list[str]]:
    """The lines of each shell code block: fenced (```, ```bash; not ```text) or indented by
    four spaces after a blank line, outside fences."""
    blocks, current, fence, previous_blank = [], None, None, True
    for line in text.splitlines():
        if line.startswith("```"):
            if fence is None:
                fence = line[3:].strip()
                current = [] if fence in SHELL_FENCES else None
            else:
                if current:
                    blocks.append(current)
                fence, current = None, None
            continue
        if fence is not None:
            if current is not None:
                current.append(line)
        elif line.startswith("    ") and (previous_blank or current is not None):
            current = (current or []) + [line[4:]]
        else:
            if current:
                blocks.append(current)
            current = None
        previous_blank = fence is None and not line.strip()
    if current:
        blocks.append(current)
    return blocks


def strip_comment(line: str) -> str:
    """The line without a trailing `# ...` that is outside quotes."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def readme_commands(text: str) -> dict[str, bool]:
    """{normalised command: needs hardware CI lacks} for every command in a page's shell blocks;
    lines ending in a backslash continue on the next."""
    found, pending, hardware = {}, "", False
    for block in code_blocks(text):
        for line in block:
            hardware = hardware or bool(HARDWARE.search(line))
            code = strip_comment(line).rstrip()
            if code.endswith("\\"):
                pending += code[:-1] + " "
                continue
            command = " ".join((pending + code).split())
            pending = ""
            if command:
                found[command] = hardware
            hardware = False
    return found


def documented_commands() -> dict[str, tuple[bool, str]]:
    """{command: (needs hardware CI lacks, the first file showing it)} over DOC_FILES."""
    found = {}
    for path in DOC_FILES:
        for command, hardware in readme_commands(path.read_text()).items():
            old_hardware, file = found.get(command, (False, str(path.relative_to(REPO))))
            found[command] = (old_hardware or hardware, file)
    return found
