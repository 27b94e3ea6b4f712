"""User strings (system, workload and file names, notes) in outputs that interpret text.

Markdown: the page a CI job summary or a pull request renders would otherwise run a system
named `<script>` or typeset `**bold**`; a terminal would obey control characters in a name."""

from __future__ import annotations

import html
import re

_MARKDOWN = re.compile(r"([\\`*\[\]|~$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def markdown(text: object) -> str:
    """One line of Markdown that shows `text` literally: HTML escaped, specials backslashed."""
    flat = " ".join(str(text).splitlines())
    return _MARKDOWN.sub(r"\\\1", html.escape(flat, quote=False))


def terminal(text: object) -> str:
    """`text` with control characters (escape sequences, carriage returns) made visible."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


_BREAKS = re.compile(r"[\n\u2028\u2029]")


def terminal_line(text: object) -> str:
    """`text` as exactly one terminal line: control characters and line breaks made visible."""
    return _BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}" if m.group() != "\n" else "\\n",
                       terminal(text))
