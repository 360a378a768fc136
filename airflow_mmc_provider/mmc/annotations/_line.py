"""The context of one annotation line's checks, and what every check shares.

`_Line` says where issues go and how they name the line (`line_issue`); `_feature` finds what a
name and/or schema id refer to, reporting why nothing matches. The rules themselves are in
`_tool_checks` (message tools) and `_answer_checks` (classifications and answers); `rules`
puts them behind the one public entry point, `AnnotationValidator`.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from airflow_mmc_provider.mmc.annotations.types import (
    AnnotationLine,
    AnswerObject,
    DataRowRef,
    LineShapeError,
)
from airflow_mmc_provider.mmc.conversation.index import (
    ConversationIndex,
)
from airflow_mmc_provider.mmc.errors import ValidationIssue

MAX_ANNOTATIONS_PER_FEATURE: Final = 5_000
INDEXED_ROWS: Final = 4_096  # conversation indexes an `AnnotationValidator` keeps (least recently used go)
TOOL_FORMATS: Final = ("message-single-selection", "message-multi-selection", "message-ranking")
CLASSIFICATION_TYPES: Final = ("radio", "checklist", "text")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MISSING: Any = object()
FROM_DOCUMENTS: Final[Any] = object()
"""`AnnotationValidator.check`'s default `document`: look the data row up in `documents`."""
_SHOWN = 8  # how many choices a fix lists before "..."


def line_issue(
    line: int | None,
    data_row: str | None,
    annotation: str | None,
    field: str,
    message: str,
    fix: str,
    *,
    origin: str = "",
) -> ValidationIssue:
    """An issue that names the line, the data row, the annotation and the field, e.g.
    ``line 7 (data row 'conv-1', annotation 'Rank'), messageEvaluationTask.data.parentMessageId``.

    `origin` is the field of a user record the line was made from; the line's own field path
    follows it in parentheses.
    """
    parts = []
    if data_row is not None:
        parts.append(f"data row {data_row!r}")
    if annotation is not None:
        parts.append(f"annotation {annotation!r}")
    inner = ", ".join(parts)
    if line is not None:
        record = f"line {line} ({inner})" if inner else f"line {line}"
    else:
        record = inner or "annotation"
    if origin:
        field = f"{origin} ({field})" if field else origin
    return ValidationIssue(record, field, message, fix, key=data_row, line=line)


# --- one line ------------------------------------------------------------------------------------


class _Line:
    """The context of one line: where issues go and how they name the line.

    It holds the validator's containers, not the validator: the validator keeps one `_Line`,
    and a reference cycle would leave an import's per-row state to the garbage collector.
    """

    __slots__ = ("conv", "found", "issues", "key", "label", "number", "origin", "required", "rows", "uuids")

    def __init__(self, validator: Any, number: int | None, origin: str) -> None:
        self.issues = validator.issues
        self.uuids = validator._uuids
        self.rows = validator._rows
        self.number = number
        self.origin = origin
        self.required = validator.check_required
        self.key: str | None = None
        self.label: str | None = None
        self.conv: ConversationIndex | None = None
        self.found: list[ValidationIssue] | None = None  # created by the first problem

    def add(self, field: str, message: str, fix: str) -> None:
        issue = line_issue(self.number, self.key, self.label, field, message, fix, origin=self.origin)
        if self.found is None:
            self.found = [issue]
        else:
            self.found.append(issue)

    def done(self) -> list[ValidationIssue]:
        if not self.found:
            return []
        self.issues.extend(self.found)
        return self.found


class _Verdict(_Line):
    """A `_Line` that only notes whether a rule failed, for the fast path (`_accept`): it runs
    the detailed checks' rules that need no conversation with it, so each is written once. On a
    valid line those checks format nothing; on an invalid one `_explain` runs them again, to say
    what is wrong."""

    __slots__ = ()

    def __init__(self, required: bool) -> None:
        self.required = required
        self.conv = None
        self.found = None

    def add(self, field: str, message: str, fix: str) -> None:
        self.found = _FAILED

    def passed(self) -> bool:
        """Whether no rule failed since the last call (and ready for the next line)."""
        failed = self.found is not None
        self.found = None
        return not failed


_FAILED: Final[list[ValidationIssue]] = []  # what a `_Verdict` notes: the contents never matter


def _report_shape(ctx: _Line, error: LineShapeError) -> None:
    untyped = error.untyped
    if not isinstance(untyped, Mapping):
        ctx.add("", f"expected a JSON object, got {_kind(untyped)}", "write one annotation object per line")
        return
    data_row = untyped.get("dataRow")
    if isinstance(data_row, Mapping):
        key = data_row.get("globalKey") or data_row.get("id")
        ctx.key = key if isinstance(key, str) else None
    label = untyped.get("name") or untyped.get("schemaId")
    ctx.label = label if isinstance(label, str) else None
    for problem in error.problems:
        ctx.add(problem.path, problem.message, problem.fix)


def _data_row(ctx: _Line, data_row: DataRowRef) -> str | None:
    fix = 'give "dataRow": {"globalKey": "<global key>"} or {"id": "<data row id>"}'
    given = [k for k, v in (("globalKey", data_row.global_key), ("id", data_row.id)) if v is not None]
    if len(given) != 1:
        ctx.add("dataRow", "give exactly one of globalKey and id" + (f" (got {given})" if given else ""), fix)
        return None
    value = data_row.global_key if given[0] == "globalKey" else data_row.id
    if not value:
        ctx.add(f"dataRow.{given[0]}", "the data row key is empty", fix)
        return None
    return value


def _uuid(ctx: _Line, value: str) -> None:
    """A uuid the line carries: well-formed, and new to the import."""
    if not _UUID.fullmatch(value):
        ctx.add(
            "uuid",
            f"{value!r} is not a UUID",
            "use a UUID string, or leave uuid out to get a deterministic one",
        )
        return
    uuids = ctx.uuids
    lowered = value.lower()
    first = uuids.get(lowered, _MISSING)
    if first is _MISSING and ctx.key is not None:
        row = ctx.rows.get(ctx.key)  # generated uuids hash their data row: look there
        if row is not None:
            first = row.generated.get(lowered, _MISSING)
    if first is _MISSING:
        uuids[lowered] = ctx.number
    else:
        _duplicate_uuid(ctx, value, first)


def _duplicate_uuid(ctx: _Line, value: str, first: int | None) -> None:
    ctx.add(
        "uuid",
        f"uuid {value} is used twice in this import" + (f" (first at line {first})" if first else ""),
        "give each annotation its own uuid; a repeated identical annotation gets the same deterministic "
        "uuid, so remove the duplicate",
    )


def _over_limit(ctx: _Line, name: str, count: int) -> None:
    if count == MAX_ANNOTATIONS_PER_FEATURE + 1:  # reported once, at the first line over the limit
        ctx.add(
            "name",
            f"more than {MAX_ANNOTATIONS_PER_FEATURE:,} annotations of {name!r} on this data row "
            "(this line is the first over the limit)",
            "split them across data rows or drop some; Labelbox rejects the excess",
        )


def _feature(
    ctx: _Line,
    name: str | None,
    schema_id: str | None,
    by_id: Mapping[str, Any],
    by_name: Mapping[str, Any],
    path: str,
    what: str,
) -> Any:
    """What a name and/or schemaId refer to: a top-level feature (`what` is "feature"), a nested
    classification or an option; None after reporting why there is none."""
    if schema_id is None and name is not None:
        found = by_name.get(name)
        if found is not None:
            return found  # the common case: decided without formatting anything
    choices = _listing(by_name) or "none"
    if name is None and schema_id is None:
        ctx.add(_join(path, "name"), f"the {what} has neither name nor schemaId", f"name it: {choices}")
        return None
    found = None
    if name is not None:
        found = by_name.get(name)
        if found is None:
            where = {
                "feature": "the ontology has no tool or classification",
                "option": "the classification has no option",
            }.get(what, "the ontology nests no classification here")
            ctx.add(_join(path, "name"), f"{where} named {name!r}", f"use one of {choices}")
    if schema_id is not None:
        by_schema = by_id.get(schema_id)
        if by_schema is None:
            ctx.add(
                _join(path, "schemaId"),
                f"no {what} here has schemaId {schema_id!r}",
                "use the featureSchemaId from the project's ontology, or the name",
            )
        elif found is not None and by_schema is not found:
            ctx.add(
                _join(path, "schemaId"),
                f"schemaId {schema_id!r} is {by_schema.name!r}, not {name!r}",
                "give the name and schemaId of the same feature, or only one of them",
            )
            return None
        elif name is None:
            found = by_schema
    return found


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


# --- helpers -------------------------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, AnswerObject):
        return "an option object"
    return "an object" if isinstance(value, Mapping) else type(value).__name__


def _listing(items: Iterable[str], *, quote: bool = True) -> str:
    shown = []
    for count, item in enumerate(items):
        if count == _SHOWN:
            shown.append("...")
            break
        shown.append(repr(item) if quote else item)
    return ", ".join(shown)


# What an import remembers of the rankings of each data row: (tool name, parent message id) ->
# the line. Only the line, not the ranking: holding every ranking of an import alive would cost
# the record route a tenth of its time (memory not reused); two rankings of one prompt by one
# tool are refused whether or not they agree (identical ones are duplicates).
Rankings = dict[tuple[str, str | None], int | None]
RANKING: Final = "message-ranking"


def ranking_slot(line: AnnotationLine, name: str) -> tuple[str, str | None] | None:
    """(tool name, parent message id) of a ranking line; None for any other line."""
    task = line.message_evaluation_task
    if task is None or task.format != RANKING:
        return None
    return name, task.data.parent_message_id


def _ranked_twice(ctx: _Line, parent: str | None, first: int | None) -> None:
    ctx.add(
        "messageEvaluationTask.data.rankedMessages",
        f"prompt {parent!r} is ranked a second time by this tool in this data row's label"
        + (f" (first at line {first})" if first else ""),
        "keep one ranking per prompt and tool in a label: remove or correct one of the two lines",
    )
