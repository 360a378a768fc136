"""An API key that cannot be sent as it is: refused when the client is built, never shown."""

from __future__ import annotations

import json
import logging
import traceback

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_mmc_provider.client import ApiKeyFormatError, AuthenticationError, LabelboxClient
from airflow_mmc_provider.hooks.labelbox import LabelboxHook
from airflow_mmc_provider.operators._failures import fail_fast_on

SECRET = "sk9Q7zX2wLmPvR4t"
BAD_KEYS = {
    "trailing-newline": (SECRET + "\n", "ends with a line break"),
    "trailing-crlf": (SECRET + "\r\n", "ends with a line break"),
    "leading-newline": ("\n" + SECRET, "starts with a line break"),
    "leading-space": (" " + SECRET, "starts with white space"),
    "trailing-tab": (SECRET + "\t", "ends with white space"),
    "two-lines": (SECRET[:8] + "\n" + SECRET[8:], "contains a line break"),
    "inner-space": (SECRET[:8] + " " + SECRET[8:], "contains white space"),
    "non-ascii": (SECRET[:8] + "\u00e9" + SECRET[8:], "outside ASCII"),
    "control": (SECRET[:8] + "\x00" + SECRET[8:], "control character"),
    "empty": ("", "is empty"),
}


def pieces(key: str) -> set[str]:
    """Every run of 4 characters of the key's letters and digits: none may appear anywhere."""
    core = "".join(char for char in key if char.isalnum())
    return {core[i : i + 4] for i in range(len(core) - 3)}


def assert_hidden(key: str, *texts: str) -> None:
    for text in texts:
        shown = [piece for piece in pieces(key) if piece in text]
        assert not shown, f"part of the key appears in {text!r}"


@pytest.mark.parametrize(("key", "problem"), list(BAD_KEYS.values()), ids=list(BAD_KEYS))
def test_a_key_of_the_wrong_shape_is_refused_before_any_request_without_showing_it(
    key, problem, caplog, requests_mock
):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ApiKeyFormatError) as raised:
        LabelboxClient(key, "https://lb.test/graphql")
    error = raised.value
    assert problem in str(error) and "the key is not shown" in str(error)
    assert isinstance(error, AuthenticationError) and not error.retryable
    assert error.__cause__ is None and error.__context__ is None
    assert not requests_mock.called
    chain = "".join(traceback.format_exception(error))
    assert_hidden(key, str(error), repr(error), repr(error.args), chain, caplog.text)


def test_the_operators_treat_it_as_permanent():
    with pytest.raises(AirflowFailException, match="ends with a line break"), fail_fast_on():
        LabelboxClient(SECRET + "\n")


def test_a_key_that_is_not_text_is_refused():
    with pytest.raises(ApiKeyFormatError, match="is a bytes, not text"):
        LabelboxClient(SECRET.encode())  # type: ignore[arg-type]


def test_the_hook_fails_the_task_at_once_and_test_connection_reports_it(monkeypatch, caplog):
    key = SECRET + "\n"
    conn = {"conn_type": "labelbox", "host": "http://127.0.0.1:9/graphql", "password": key}
    monkeypatch.setenv("AIRFLOW_CONN_LB_NEWLINE", json.dumps(conn))
    ok, message = LabelboxHook("lb_newline").test_connection()
    assert not ok and "ends with a line break" in message and "password field" in message
    with pytest.raises(AirflowFailException) as raised:
        LabelboxHook("lb_newline").get_conn()
    assert "'lb_newline'" in str(raised.value)
    chain = "".join(traceback.format_exception(raised.value))
    assert_hidden(key, message, str(raised.value), chain, caplog.text)


def test_a_key_of_the_right_shape_is_accepted_unchanged():
    client = LabelboxClient("eyJhbGciOi.J-IUzI1_NiIs+/=")
    assert client.transport._session.headers["Authorization"] == "Bearer eyJhbGciOi.J-IUzI1_NiIs+/="
