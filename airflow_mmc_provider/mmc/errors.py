"""One problem, one line: the error type every `mmc` validator raises.

Users fix input files by hand, often thousands of lines at once, so a validator never stops at the
first problem: it collects a `ValidationIssue` per problem (which record, which field, what is
wrong, how to fix it) and raises a single `ValidationError` carrying all of them. Operators can
log the rendered message; programs can inspect `issues`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# The rendered message lists this many issues; the rest stay reachable through `issues`, so a
# file with 100,000 broken lines does not produce a 100,000-line exception message.
MESSAGE_ISSUE_LIMIT = 50


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem in user input.

    `record` is a human label of what was validated ("line 7 (key 'conv-1')", "ontology spec");
    `key` and `line` repeat the record key and 1-based line number when there are any, so tools
    can group issues without parsing the label. `field` is a path such as
    `responses['gpt-4o'].files[0].mime_type`.
    """

    record: str
    field: str
    message: str
    fix: str
    key: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.record}, {self.field}" if self.field else self.record
        return f"{where}: {self.message}. Fix: {self.fix}"


class ValidationError(ValueError):
    """Input that cannot be used, with every problem that was found in it."""

    def __init__(self, issues: Iterable[ValidationIssue], *, subject: str = "input") -> None:
        self.issues: tuple[ValidationIssue, ...] = tuple(issues)
        self.subject = subject
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.issues)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.subject}: {count} {noun}"]
        lines.extend(f"  - {issue}" for issue in self.issues[:MESSAGE_ISSUE_LIMIT])
        if count > MESSAGE_ISSUE_LIMIT:
            lines.append(f"  ... and {count - MESSAGE_ISSUE_LIMIT} more (see the exception's .issues)")
        return "\n".join(lines)


class IssueReport:
    """Collects the issues of one record, stamping each with the record's key and line.

    Validators call `add` only when something is wrong, so a clean record costs no formatting.
    """

    __slots__ = ("issues", "key", "line", "subject")

    def __init__(
        self, key: str | None = None, line: int | None = None, *, subject: str | None = None
    ) -> None:
        self.key = key
        self.line = line
        self.subject = subject  # names what is validated when there is no record (e.g. "ontology spec")
        self.issues: list[ValidationIssue] = []

    def add(self, field: str, message: str, fix: str) -> None:
        label = self.subject or record_label(self.key, self.line)
        self.issues.append(ValidationIssue(label, field, message, fix, key=self.key, line=self.line))


def record_label(key: str | None, line: int | None) -> str:
    """How issues name a record: by line and key when both are known."""
    if line is not None and key is not None:
        return f"line {line} (key {key!r})"
    if line is not None:
        return f"line {line}"
    return f"record {key!r}" if key is not None else "row_data"
