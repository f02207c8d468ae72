"""Data made inert for the medium that shows it: terminal, Markdown, XML, CSV, SARIF text.

Resource names, tags, gap messages and notes are written by anyone who can tag a
resource or open a pull request, so every renderer passes them through the
function for its medium here, and nowhere else (one escaper per medium, shared by
the scan outputs and the reports). HTML is autoescaped by Jinja and needs none.
"""

from __future__ import annotations

import re

#: C0, DEL and C1 controls, zero-width and bidirectional formatting characters (which
#: reorder what a reader sees), line/paragraph separators and interlinear annotations.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(value: object) -> str:
    """One line of text with every control character shown as an escape (`\\x1b`), never obeyed.

    An ESC from a tag could otherwise clear the screen, recolour the table or write the
    clipboard (OSC 52); a CR could overwrite what came before it on the line.
    """
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return _CONTROL.sub(_visible, text) if text else text


# --------------------------------------------------------------------------- Markdown

#: ASCII punctuation that is markup anywhere on a line in CommonMark/GFM: escapes, code,
#: emphasis, links/images (`[`), raw HTML and autolinks (`<`), entities, table cells,
#: strikethrough, mentions and issue references. `_` runs and `:` are handled apart
#: (`_MD_SPECIAL`'s groups), and block markers only matter at the start (`_MD_LEADING`).
_MD_SPECIAL = re.compile(r"(_+)|(:(?=[A-Za-z0-9_+-]*[A-Za-z_+-][A-Za-z0-9_+-]*:))|([\\`*\[\]<>#|~@&])")
_MD_LEADING = re.compile(r"^( *)([-+.=]|\d+[.)])")


def md_text(value: object) -> str:
    """Text for a Markdown table cell or a line of prose: it renders as exactly these characters.

    Line breaks (CR too: CommonMark ends a line at a bare CR) and other controls become
    visible escapes; every character that could start markup is backslash-escaped, so a
    name cannot add a heading, a table row, raw HTML, a comment that hides the rest, or
    a `javascript:` link.
    """
    text = terminal(value)
    if not text:
        return text
    text = _MD_SPECIAL.sub(lambda m: _md_escape(m, text), text)
    # At the start of a line: indentation would make a code block, `-`/`1.` a list, `=` a heading underline.
    text = _MD_LEADING.sub(lambda m: m.group(1) + "".join("\\" + c if not c.isdigit() else c for c in m.group(2)), text)
    stripped = text.lstrip(" ")
    return "&#32;" * (len(text) - len(stripped)) + stripped


def _md_escape(m: re.Match[str], text: str) -> str:
    run = m.group(1)
    if run is None:  # markup, or a ':' that would start an emoji shortcode (`:white_check_mark:`)
        return "\\" + (m.group(2) or m.group(3))
    # A run of '_' between two letters or digits can neither open nor close emphasis
    # (CommonMark's flanking rules): `aws_s3_bucket` stays readable in the raw Markdown.
    before = text[m.start() - 1] if m.start() else ""
    after = text[m.end()] if m.end() < len(text) else ""
    if before.isalnum() and after.isalnum():
        return run
    return "\\_" * len(run)


def md_cell(value: object) -> str:
    """`md_text` for a table cell; an empty cell stays a cell."""
    return md_text(value) or " "


def md_code(value: object) -> str:
    """An inline code span holding `value` literally (for prose, not table cells: GFM splits cells on `|`)."""
    text = terminal(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# --------------------------------------------------------------------------- XML

#: Characters XML 1.0 does not allow in a document at all (not even as references).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml(value: object) -> str:
    """Text a conforming XML 1.0 parser accepts: forbidden characters become visible escapes.

    ElementTree writes whatever it is given, so a name holding ESC made the JUnit file
    not well-formed, and GitLab dropped the whole test report.
    """
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return _XML_FORBIDDEN.sub(_visible, text) if text else text


# --------------------------------------------------------------------------- CSV

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP: CSV injection);
#: the full-width forms too, which some spreadsheets normalise.
_FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading formula character gets a `'` in front.

    Controls other than the formula starters are made visible as for the terminal.
    """
    text = value if isinstance(value, str) else "" if value is None else str(value)
    if not text:
        return text
    stripped = text.lstrip(" ")
    if stripped and stripped[0] in _FORMULA_START:
        text = "'" + text
    return terminal(text)


# --------------------------------------------------------------------------- SARIF

_SARIF_LINK = re.compile(r"([\\\[\]])")


def sarif_text(value: object) -> str:
    """A SARIF plain-text message: `[text](id)` is an embedded link there (SARIF 2.1.0 3.11.6),
    so brackets and backslashes from data are escaped, and controls made visible."""
    return _SARIF_LINK.sub(r"\\\1", terminal(value))
