"""Responses in the team's own shape: the mapping spec, the join with the evaluation set, its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_mmc_provider.mmc.conversation.mapping import (
    file_stem,
    join_responses,
    mapped_payloads,
    parse_mapping,
    parse_mapping_text,
)
from airflow_mmc_provider.mmc.errors import ValidationError, ValidationIssue

WEEKLY = Path(__file__).resolve().parents[2] / "example_dags" / "data" / "weekly"
WEEKS = ("2026-04-06", "2026-04-13")
SPEC: dict[str, Any] = {
    "prompts": {"key": "id", "text": "input.prompt", "metadata": {"category": "category"}},
    "responses": {"key": "prompt_id", "model": {"from": "file_stem"}, "text": "output.text"},
}
PROMPTS = [
    {"id": "p1", "input": {"prompt": "Why is the sky blue?"}, "category": "facts"},
    {"id": "p2", "input": {"prompt": "Reverse a list."}, "category": "coding"},
]


def lines(*objects: Any) -> list[bytes]:
    return [json.dumps(value).encode() for value in objects]


def answers(model: str, *keys: str) -> list[bytes]:
    return lines(*({"prompt_id": key, "output": {"text": f"{model} on {key}"}} for key in keys))


def evaluation(*objects: Any) -> tuple[str, list[bytes]]:
    return ("eval.jsonl", lines(*(objects or PROMPTS)))


def two_models(**overrides: list[bytes]) -> list[tuple[str, list[bytes]]]:
    files = {"runs/m-a.jsonl": answers("m-a", "p1", "p2"), "runs/m-b.jsonl": answers("m-b", "p2", "p1")}
    files.update({f"runs/{name}.jsonl": value for name, value in overrides.items()})
    return list(files.items())


def problems(*args: Any, **kwargs: Any) -> tuple[ValidationIssue, ...]:
    """The issues of a join that must fail, after checking that it yielded no payload at all."""
    payloads: list[dict[str, Any]] = []
    with pytest.raises(ValidationError) as caught:
        payloads.extend(mapped_payloads(join_responses(*args, **kwargs)))
    assert payloads == []
    return caught.value.issues


def only(issues: tuple[ValidationIssue, ...]) -> ValidationIssue:
    assert len(issues) == 1, issues
    return issues[0]


# --- the weekly sample ---------------------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("week", WEEKS)
def test_the_weekly_sample_maps_to_one_valid_conversation_per_prompt(week):
    mapping = parse_mapping_text((WEEKLY / "mapping.yaml").read_text())
    prompts = read_jsonl(WEEKLY / "evaluation_set.jsonl")
    files = sorted((WEEKLY / "responses" / week).glob("*.jsonl"))
    joined = join_responses(
        ("evaluation_set.jsonl", (WEEKLY / "evaluation_set.jsonl").read_bytes().splitlines()),
        [(str(file), file.read_bytes().splitlines()) for file in files],
        mapping,
    )
    payloads = list(mapped_payloads(joined, global_key_prefix=f"{week}/"))

    assert joined.models == [file.stem for file in files]
    assert "borealis-7b" in joined.models and f"atlas-large-{week}" in joined.models
    assert [p["global_key"] for p in payloads] == [f"{week}/{line['id']}" for line in prompts]
    expected = {(r["prompt_id"], f.stem): r["output"]["text"] for f in files for r in read_jsonl(f)}
    for line, payload in zip(prompts, payloads, strict=True):
        doc = payload["row_data"]
        names = {a: v["metadata"].get("modelConfigName") for a, v in doc["actors"].items()}
        said = {
            (line["id"], names[m["actorId"]]): m["content"][0]["content"] for m in doc["messages"].values()
        }
        assert all(said[pair] == text for pair, text in expected.items() if pair[0] == line["id"])
        assert {"name": "category", "value": line["category"]} in payload["metadata_fields"]
        files_sent = [p for m in doc["messages"].values() for p in m["content"] if p["type"] == "fileData"]
        wanted = [
            {"type": "fileData", "fileUri": i["url"], "mimeType": i["mime"]}
            for i in line["input"].get("images", [])
        ]
        assert files_sent == wanted
        assert len(doc["messages"]) == 1 + len(files) + len(line["input"].get("context", []))


def test_the_weekly_sample_has_a_reference_model_with_the_same_answers_both_weeks():
    first, second = (WEEKLY / "responses" / week / "borealis-7b.jsonl" for week in WEEKS)
    assert first.read_bytes() == second.read_bytes()
    versions = [sorted(f.stem for f in (WEEKLY / "responses" / week).glob("*.jsonl")) for week in WEEKS]
    assert set(versions[0]) & set(versions[1]) == {"borealis-7b"}


# --- the spec ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"respones": SPEC["responses"]}, "respones", ["unknown field", "did you mean 'responses'"]),
        ({"responses": {"key": "id", "model": "m"}}, "responses.text", ["is required", "output.text"]),
        (
            {"responses": {**SPEC["responses"], "model": {"from": "folder"}}},
            "responses.model.from",
            ["file_stem"],
        ),
        ({"responses": {**SPEC["responses"], "model": {}}}, "responses.model", ["exactly one of"]),
        (
            {"responses": {**SPEC["responses"], "text": "output..text"}},
            "responses.text",
            ["not a field path"],
        ),
        ({**SPEC, "prompts": {"key": "id"}}, "prompts.text", ["is required"]),
        (
            {**SPEC, "prompts": {"key": "id", "text": "t", "files": {"url": "u"}}},
            "prompts.files.path",
            ["required"],
        ),
        (["responses"], "", ["must be an object"]),
    ],
)
def test_a_bad_spec_names_the_spec_field_and_the_fix(spec, field, words):
    with pytest.raises(ValidationError) as caught:
        parse_mapping(spec)
    issue = next(issue for issue in caught.value.issues if issue.field == field)
    assert issue.record == "mapping spec" and issue.fix
    assert all(word in str(issue) for word in words), str(issue)


def test_a_spec_file_with_bad_yaml_names_the_file():
    with pytest.raises(ValidationError, match=r"weekly\.yaml.*not valid YAML"):
        parse_mapping_text("responses: [key: id", source="weekly.yaml")


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("s3://b/w/atlas-large-2026-04-06.jsonl", "atlas-large-2026-04-06"),
        ("m-v1.5.jsonl", "m-v1.5"),
        ("m", "m"),
    ],
)
def test_file_stem_drops_the_folder_and_the_last_extension_only(name, stem):
    assert file_stem(name) == stem


# --- joining -------------------------------------------------------------------------------------


@pytest.mark.parametrize("decoded", [False, True], ids=["jsonl", "dicts-from-xcom"])
def test_one_jsonl_with_the_model_in_each_line_and_a_record_format_evaluation_set(decoded):
    spec = {"responses": {"key": "conv.id", "model": "model.name", "text": "choices.0.text"}}
    records = ({"key": 7, "prompt": "Hi", "metadata": {"category": "chat"}}, {"key": "k2", "prompt": "Yo"})
    harness = [
        {"conv": {"id": key}, "model": {"name": model}, "choices": [{"text": f"{model}:{key}"}]}
        for key in (7, "k2")
        for model in ("m-a", "m-b")
    ]
    evaluation_set = list(records) if decoded else lines(*records)
    joined = join_responses(("eval", evaluation_set), [("all.jsonl", lines(*harness))], spec)
    payloads = list(mapped_payloads(joined))
    assert [p["global_key"] for p in payloads] == ["7", "k2"]
    assert joined.models == ["m-a", "m-b"]
    assert payloads[0]["metadata_fields"] == [{"name": "category", "value": "chat"}]


def test_history_files_and_metadata_paths_map_into_the_record():
    spec = {
        "prompts": {
            "key": "id",
            "text": "q",
            "files": {"path": "img", "url": "href"},
            "history": {"path": "chat", "role": "who", "text": "said"},
            "metadata": {"category": "tags.0", "absent": "nowhere"},
        },
        "responses": SPEC["responses"],
    }
    prompt = {
        "id": "p1",
        "q": "And this one?",
        "img": {"href": "https://example.com/a.png"},
        "chat": [{"who": "user", "said": "Look"}, {"who": "assistant", "said": "Nice"}],
        "tags": ["vision"],
    }
    joined = join_responses(("eval", lines(prompt)), [("m-a.jsonl", answers("m-a", "p1"))], spec)
    (payload,) = mapped_payloads(joined)
    contents = [m["content"] for m in payload["row_data"]["messages"].values()]
    assert contents[:2] == [[{"type": "text", "content": "Look"}], [{"type": "text", "content": "Nice"}]]
    assert contents[2][1] == {
        "type": "fileData",
        "fileUri": "https://example.com/a.png",
        "mimeType": "image/png",
    }
    assert payload["metadata_fields"] == [{"name": "category", "value": "vision"}]


def test_a_response_without_its_text_names_the_file_line_key_path_and_spec_field():
    broken = [*answers("m-b", "p1"), json.dumps({"prompt_id": "p2", "output": {}}).encode()]
    issue = only(problems(evaluation(), two_models(**{"m-b": broken}), SPEC))
    assert issue.record == "runs/m-b.jsonl line 2 (key 'p2')" and issue.field == "output.text"
    assert issue.key == "p2" and issue.line == 2
    assert "responses.text" in issue.message and "responses.text" in issue.fix


def test_a_prompt_without_its_key_or_text_is_named_by_its_line():
    broken = evaluation(PROMPTS[0], {"input": {"prompt": "no key"}}, {"id": "p3", "input": {}})
    files = [(f"{m}.jsonl", answers(m, "p1", "p3")) for m in ("m-a", "m-b")]
    found = {(issue.record, issue.field) for issue in problems(broken, files, SPEC)}
    assert found == {("eval.jsonl line 2", "id"), ("eval.jsonl line 3 (key 'p3')", "input.prompt")}


def test_a_response_to_a_key_outside_the_evaluation_set_is_an_error():
    extra = answers("m-b", "p1", "p2", "p9")
    issue = only(problems(evaluation(), two_models(**{"m-b": extra}), SPEC))
    assert issue.record == "runs/m-b.jsonl line 3 (key 'p9')"
    assert "not in the evaluation set eval.jsonl" in issue.message


def test_two_responses_of_one_model_to_one_key_name_both_places():
    issue = only(problems(evaluation(), two_models(**{"m-b": answers("m-b", "p1", "p2", "p1")}), SPEC))
    assert issue.record == "runs/m-b.jsonl line 3 (key 'p1')"
    assert "second response of model 'm-b'" in issue.message and "runs/m-b.jsonl line 1" in issue.message


def test_the_same_model_in_two_files_is_a_duplicate_too():
    spec = {"responses": {**SPEC["responses"], "model": {"value": "m-a"}}}
    files = [("w1.jsonl", answers("m-a", "p1", "p2")), ("w2.jsonl", answers("m-a", "p2"))]
    issue = only(
        problems(evaluation({"key": "p1", "prompt": "a"}, {"key": "p2", "prompt": "b"}), files, spec)
    )
    assert issue.record == "w2.jsonl line 1 (key 'p2')" and "w1.jsonl line 2" in issue.message


def test_a_prompt_a_model_did_not_answer_is_an_error_unless_allowed():
    files = two_models(**{"m-b": answers("m-b", "p2")})
    issue = only(problems(evaluation(), files, SPEC))
    assert issue.record == "eval.jsonl line 1 (key 'p1')" and issue.field == "responses"
    assert (
        "'m-b'" in issue.message
        and "runs/m-b.jsonl" in issue.message
        and "allow_missing_responses" in issue.fix
    )

    joined = join_responses(evaluation(), files, SPEC, allow_missing_responses=True)
    assert joined.missing == [("p1", "m-b")]
    first = next(iter(mapped_payloads(joined)))
    names = {a["metadata"].get("modelConfigName") for a in first["row_data"]["actors"].values()}
    assert names == {None, "m-a"}


def test_every_problem_is_collected_and_builder_problems_name_the_evaluation_set():
    spec = {**SPEC, "prompts": {**SPEC["prompts"], "files": "input.files"}}
    bad_file = {"id": "p2", "input": {"prompt": "See", "files": ["https://example.com/a.bin"]}}
    issues = problems(
        evaluation(PROMPTS[0], bad_file, PROMPTS[0]), two_models(**{"m-a": answers("m-a", "p1")}), spec
    )
    found = {(issue.record, issue.field) for issue in issues}
    assert found == {
        ("eval.jsonl line 3 (key 'p1')", "key"),  # the duplicate prompt
        ("eval.jsonl line 2 (key 'p2')", "responses"),  # m-a did not answer p2
        ("eval.jsonl line 2 (key 'p2')", "prompt.files[0].mime_type"),  # the builder's own check
    }


def test_a_record_format_evaluation_set_may_not_bring_its_own_responses():
    record = {"key": "p1", "prompt": "Hi", "responses": {"m-a": "Hello"}}
    issue = only(
        problems(evaluation(record), [("m-a.jsonl", answers("m-a", "p1"))], {"responses": SPEC["responses"]})
    )
    assert issue.record == "eval.jsonl line 1 (key 'p1')" and issue.field == "responses"


def test_no_response_lines_at_all_is_an_error():
    issue = only(problems(evaluation(), [("empty.jsonl", [b"", b"  "])], SPEC))
    assert "no response lines" in issue.message


def test_the_readme_spec_is_a_valid_mapping():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Responses in your own shape", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    mapping = parse_mapping(parse_mapping_text(block))
    assert (
        mapping.prompts is not None
        and mapping.prompts.history is not None
        and mapping.responses.model.file_stem
    )


def test_a_field_misnamed_on_every_line_is_one_problem_shown_a_few_times():
    prompts = [{"id": f"p{i}", "input": {"prompt": f"question {i}"}} for i in range(10)]
    keys = [p["id"] for p in prompts]
    misnamed = lines(*({"prompt_id": key, "output": {"txt": "an answer"}} for key in keys))
    issues = problems(
        evaluation(*prompts), [("runs/m-a.jsonl", answers("m-a", *keys)), ("runs/m-b.jsonl", misnamed)], SPEC
    )
    assert [issue.record for issue in issues] == [
        "runs/m-b.jsonl line 1 (key 'p0')",
        "runs/m-b.jsonl line 2 (key 'p1')",
        "runs/m-b.jsonl line 3 (key 'p2')",
        "7 more line(s)",
    ]
    summary = issues[-1]
    assert summary.message.startswith("the same: no value at 'output.text' (mapped by responses.text)")
    assert "runs/m-b.jsonl line 4 (key 'p3')" in summary.message and summary.field == "output.text"


def test_a_bad_spec_in_a_file_names_the_file(tmp_path):
    from airflow_mmc_provider.operators.storage import load_mapping

    path = tmp_path / "mapping.yaml"
    path.write_text("responses:\n  key: prompt_id\n  model: {from: file_stem}\n  txt: output.text\n")
    with pytest.raises(ValidationError) as caught:
        load_mapping(str(path))
    assert str(caught.value).startswith(f"mapping file://{path}: 2 problems")
    assert "did you mean 'text'" in str(caught.value)
