"""The rules of a message-tool line: its format, its data's fields, its parent and its messages.

Each rule is checked once, cheaply while the line is right, and formats its message only when it
is not (the common case returns before anything is formatted).
"""

from operator import attrgetter

from airflow_mmc_provider.mmc.annotations._answer_checks import _check_nested, _missing_required
from airflow_mmc_provider.mmc.annotations._line import (
    _MISSING,
    _SHOWN,
    TOOL_FORMATS,
    _camel,
    _Line,
    _listing,
)
from airflow_mmc_provider.mmc.annotations.types import (
    AnnotationLine,
    MessageItem,
    TaskData,
)
from airflow_mmc_provider.mmc.conversation.index import (
    ConversationIndex,
)
from airflow_mmc_provider.mmc.ontology.index import (
    ToolSpec,
)

_TASK_FIELDS = {  # data fields of each format (the rest must be absent)
    "message-single-selection": ("parent_message_id", "message_id", "model_config_name"),
    "message-multi-selection": ("parent_message_id", "selected_messages"),
    "message-ranking": ("parent_message_id", "ranked_messages"),
}
_DATA_FIELDS = (
    "message_id",
    "model_config_name",
    "parent_message_id",
    "ranked_messages",
    "selected_messages",
)

# --- message tools -------------------------------------------------------------------------------

_DATA = "messageEvaluationTask.data"
_FORBIDDEN = {  # (attribute, JSON name) of the data fields each format must not have
    fmt: tuple((f, _camel(f)) for f in _DATA_FIELDS if f not in allowed)
    for fmt, allowed in _TASK_FIELDS.items()
}
_NOT_ON_TOOLS = (("answer", "answer"), ("answers", "answers"), ("message_id", "messageId"))
# The same tables read in one C call each, for the rules below and the fast path alike:
STRAY = {fmt: attrgetter(*(f for f, _ in fields)) for fmt, fields in _FORBIDDEN.items()}
ABSENT = {fmt: (None,) * len(fields) for fmt, fields in _FORBIDDEN.items()}
classified_fields = attrgetter(*(f for f, _ in _NOT_ON_TOOLS))
UNCLASSIFIED = (None,) * len(_NOT_ON_TOOLS)


def classified(line: AnnotationLine) -> bool:
    """Whether a tool's line carries what only classifications carry (a rule of every tool)."""
    return classified_fields(line) != UNCLASSIFIED


def stray_data(fmt: str, data: TaskData) -> bool:
    """Whether a format's data has a field of another format's (a rule of every tool)."""
    return STRAY[fmt](data) != ABSENT[fmt]


def check_tool_classifications(ctx: _Line, tool: ToolSpec, line: AnnotationLine) -> None:
    """The classifications nested under a tool's line: known, answered once, required ones given."""
    if line.classifications is not None:
        _check_nested(ctx, tool.nested, line.classifications, "classifications")
    elif ctx.required and tool.nested.required:
        _missing_required(ctx, tool.nested, "classifications", set())


def _check_tool(ctx: _Line, tool: ToolSpec, line: AnnotationLine) -> None:
    if tool.tool not in TOOL_FORMATS:
        ctx.add(
            "name",
            f"{tool.name!r} is a {tool.tool!r} tool; multimodal chat imports support message tools only",
            "use a message-ranking, message-single-selection or message-multi-selection tool",
        )
        return
    if classified(line):
        for attribute, field in _NOT_ON_TOOLS:
            if getattr(line, attribute) is not None:
                ctx.add(
                    field,
                    f"{tool.name!r} is a {tool.tool} tool, which takes no {field}",
                    "remove it; message tools carry messageEvaluationTask",
                )
    check_tool_classifications(ctx, tool, line)
    task = line.message_evaluation_task
    if task is None:
        ctx.add(
            "messageEvaluationTask",
            "messageEvaluationTask is missing",
            f'give {{"format": "{tool.tool}", "data": {{...}}}}',
        )
        return
    fmt = task.format
    if fmt != tool.tool:
        known = fmt in TOOL_FORMATS
        ctx.add(
            "messageEvaluationTask.format",
            f"format is {fmt!r} but {tool.name!r} is a {tool.tool} tool",
            f"use format {tool.tool!r}" + (f", or the name of a {fmt} tool" if known else ""),
        )
        return  # the data's fields follow from the format, so nothing more is meaningful
    data = task.data
    if stray_data(fmt, data):
        for attribute, json_name in _FORBIDDEN[fmt]:
            if getattr(data, attribute) is not None:
                ctx.add(f"{_DATA}.{json_name}", f"{fmt} data has no {json_name}", "remove it")
    parent = _parent(ctx, data.parent_message_id)
    if fmt == "message-single-selection":
        message_id, model = data.message_id, data.model_config_name
        if message_id is None or model is None:
            for json_name, value in (("messageId", message_id), ("modelConfigName", model)):
                if value is None:
                    ctx.add(f"{_DATA}.{json_name}", f"{json_name} is missing", "give the selected response's")
            return
        _check_message(ctx, message_id, model, parent, _DATA, None)
    elif fmt == "message-multi-selection":
        _check_messages(ctx, data.selected_messages, parent, "selectedMessages", ranked=False)
    else:
        _check_messages(ctx, data.ranked_messages, parent, "rankedMessages", ranked=True)


def _parent(ctx: _Line, parent: str | None) -> str | None:
    """The parent message id when it is a human message of the conversation (or unknown)."""
    conv = ctx.conv
    if parent and (conv is None or conv.roles.get(parent) == "human"):
        return parent
    field = f"{_DATA}.parentMessageId"
    if not parent:
        problem = "parentMessageId is missing" if parent is None else "parentMessageId is empty"
        ctx.add(field, problem, "give the id of the human message the responses answer")
        return None
    assert conv is not None
    role = conv.roles.get(parent, _MISSING)
    if role is _MISSING:
        ctx.add(field, f"message {parent!r} is not in the conversation", _prompts_fix(conv))
    else:
        ctx.add(
            field,
            f"message {parent!r} is a {role or 'actor-less'} message, not a human message",
            "the parent is the human prompt the model responses answer; " + _prompts_fix(conv),
        )
    return None


def _check_messages(
    ctx: _Line, items: list[MessageItem] | None, parent: str | None, key: str, *, ranked: bool
) -> None:
    field = f"{_DATA}.{key}"
    if items is None:
        ctx.add(field, f"{key} is missing", "list the messages as objects with messageId and modelConfigName")
        return
    conv = ctx.conv
    models = conv.models if conv is not None else None
    responses = conv.children.get(parent, ()) if conv is not None and parent is not None else None
    seen: dict[str, int] = {}
    orders: list[int | None] = []
    covered = True  # every message so far is a response of the parent with its model's name
    for index, item in enumerate(items):
        given = item.message_id
        message_id: str | None = given
        if (
            models is None
            or models.get(given, _MISSING) != item.model_config_name
            or (responses is not None and given not in responses)
        ):
            covered = False
            message_id = _check_message(ctx, given, item.model_config_name, parent, field, index)
        if message_id is not None:
            if message_id in seen:
                covered = False
                ctx.add(
                    f"{field}[{index}].messageId",
                    f"message {message_id!r} is listed twice (also at index {seen[message_id]})",
                    "list each response once",
                )
            else:
                seen[message_id] = index
        order = item.order
        if ranked:
            orders.append(order)
            if order is None:
                ctx.add(
                    f"{field}[{index}].order", "order is missing", "give 1 for the best, 2 for the next, ..."
                )
        elif order is not None:
            ctx.add(f"{field}[{index}].order", "selected messages have no order", "remove it")
    if not ranked:
        return
    count = len(orders)
    if not count:
        ctx.add(field, "the ranking is empty", "rank the parent's responses, 1 for the best")
    elif None not in orders and sorted(orders) != list(range(1, count + 1)):  # type: ignore[type-var]
        ctx.add(
            field,
            f"orders are {sorted(orders)}; they must be exactly 1..{count}, each once (no ties)",  # type: ignore[type-var]
            f"number the {count} ranked messages 1 (best) to {count}",
        )
    if conv is None or parent is None or responses is None:
        return
    answers = conv.responses(parent)
    if covered and len(seen) == len(answers):
        return  # each message is a distinct response of the parent, and there are as many
    left_out = [m for m in answers if m not in seen]
    if left_out:
        named = ", ".join(f"{m!r} ({conv.models.get(m)!r})" for m in left_out[:_SHOWN])
        ctx.add(
            field,
            f"the ranking covers {len(answers) - len(left_out)} of the {len(answers)} responses "
            f"to {parent!r}; it leaves out {named}",
            "rank every response of the parent, 1 for the best",
        )


def _check_message(
    ctx: _Line, message_id: str, model: str, parent: str | None, field: str, index: int | None
) -> str | None:
    """Checks one selected or ranked message (at `field`, or `field[index]`); its id if usable."""
    conv = ctx.conv
    if conv is None:
        if message_id and model:
            return message_id
    elif conv.models.get(message_id, _MISSING) == model and (
        parent is None or message_id in conv.children.get(parent, ())
    ):
        return message_id  # the common case: a response of the parent, with its model's name
    path = field if index is None else f"{field}[{index}]"
    if not message_id:
        ctx.add(f"{path}.messageId", "messageId is empty", "give the id of a model response")
        return None
    if not model:
        ctx.add(
            f"{path}.modelConfigName",
            "modelConfigName is empty",
            "give the model config name of the response",
        )
    if conv is None:
        return message_id
    role = conv.roles.get(message_id, _MISSING)
    if role is _MISSING:
        ctx.add(
            f"{path}.messageId",
            f"message {message_id!r} is not in the conversation",
            _responses_fix(conv, parent),
        )
        return None
    if role != "model":
        ctx.add(
            f"{path}.messageId",
            f"message {message_id!r} is a {role or 'actor-less'} message, not a model response",
            _responses_fix(conv, parent),
        )
        return None
    if parent is not None and message_id not in conv.children.get(parent, ()):
        ctx.add(
            f"{path}.messageId",
            f"message {message_id!r} is not a response to parent {parent!r}",
            _responses_fix(conv, parent),
        )
    actual = conv.models.get(message_id)
    if model and model != actual:
        ctx.add(
            f"{path}.modelConfigName",
            f"modelConfigName {model!r} is not the model of message {message_id!r} ({actual!r})",
            f"use {actual!r}, the modelConfigName of the message's actor",
        )
    return message_id


def _responses_fix(conv: ConversationIndex, parent: str | None) -> str:
    if parent is None or parent not in conv.children:
        return "use the id of a model response of this conversation"
    models = conv.models
    listed = [f"{m!r} ({models.get(m)!r})" for m in conv.responses(parent)]
    return f"use one of the responses to {parent!r}: " + (_listing(listed, quote=False) or "none")


def _prompts_fix(conv: ConversationIndex) -> str:
    prompts = [parent for parent, _ in conv.turns()]
    return "use a human message with model responses: " + (_listing(prompts) or "none in this conversation")
