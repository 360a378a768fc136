"""Transport behaviour users rely on: retries, error mapping, and keeping the API key secret."""

from __future__ import annotations

import http.server
import json
import logging
import threading

import pytest
import requests

from airflow_mmc_provider.client import errors
from airflow_mmc_provider.client.transport import RetryPolicy, Transport, experimental_endpoint

URL = "https://lb.test/graphql"
KEY = "sk-secret-api-key-123456"
QUERY = "query GetUserPyApi{user{id}}"
OK = {"json": {"data": {"user": {"id": "u1"}}}, "status_code": 200}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def transport(sleeps: list[float]) -> Transport:
    return Transport(KEY, URL, retry=RetryPolicy(max_attempts=4, initial_wait=0.5), sleep=sleeps.append)


def graphql_error(code: str, message: str = "boom", **extra: object) -> dict:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code, **extra}}]}


def test_sends_bearer_key_json_and_a_user_agent_naming_the_package(transport, requests_mock):
    requests_mock.post(URL, **OK)
    assert transport.execute(QUERY) == {"user": {"id": "u1"}}
    sent = requests_mock.last_request
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["User-Agent"].startswith("airflow-mmc-provider/")
    assert sent.json() == {"query": QUERY, "variables": {}}


def test_experimental_calls_go_to_the_gql_twin(transport, requests_mock):
    requests_mock.post("https://lb.test/_gql", **OK)
    transport.execute(QUERY, experimental=True)
    assert requests_mock.last_request.url == "https://lb.test/_gql"
    assert experimental_endpoint("http://127.0.0.1:8765/graphql") == "http://127.0.0.1:8765/_gql"


def test_429_is_retried_honouring_retry_after(transport, requests_mock, sleeps):
    requests_mock.post(
        URL,
        [
            {
                "status_code": 429,
                "headers": {"Retry-After": "3"},
                "json": {"message": "You have exceeded ..."},
            },
            OK,
        ],
    )
    assert transport.execute(QUERY)["user"]["id"] == "u1"
    assert len(sleeps) == 1 and sleeps[0] >= 3.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_for_idempotent_calls(transport, requests_mock, sleeps, status):
    requests_mock.post(URL, [{"status_code": status, "text": "bad gateway"}, {"status_code": status}, OK])
    assert transport.execute(QUERY)["user"]["id"] == "u1"
    assert requests_mock.call_count == 3
    assert len(sleeps) == 2
    assert all(0 <= s <= 1.0 for s in sleeps)  # full jitter under the exponential ceiling


def test_connection_errors_and_timeouts_are_retried(transport, requests_mock):
    requests_mock.post(
        URL,
        [
            {"exc": requests.exceptions.ConnectionError("Connection aborted. RemoteDisconnected")},
            {"exc": requests.exceptions.ReadTimeout("read timed out")},
            OK,
        ],
    )
    assert transport.execute(QUERY)["user"]["id"] == "u1"
    assert requests_mock.call_count == 3


def test_gives_up_after_max_attempts_and_says_so(transport, requests_mock, sleeps):
    requests_mock.post(URL, status_code=503, json={"message": "down"})
    with pytest.raises(errors.ServerError, match=r"gave up after 4 attempts") as caught:
        transport.execute(QUERY)
    assert "GetUserPyApi" in str(caught.value)
    assert requests_mock.call_count == 4 and len(sleeps) == 3


def test_total_deadline_bounds_retries(requests_mock, sleeps):
    policy = RetryPolicy(max_attempts=50, initial_wait=10, max_wait=10, deadline=0.5)
    transport = Transport(KEY, URL, retry=policy, sleep=sleeps.append)
    requests_mock.post(URL, status_code=429, headers={"Retry-After": "5"}, json={})
    with pytest.raises(errors.RateLimitError):
        transport.execute(QUERY)
    assert requests_mock.call_count == 1 and sleeps == []


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (401, graphql_error("AUTHENTICATION_ERROR", "Invalid API key"), errors.AuthenticationError),
        (200, graphql_error("AUTHORIZATION_ERROR"), errors.AuthorizationError),
        (400, graphql_error("GRAPHQL_VALIDATION_FAILED"), errors.InvalidQueryError),
        (400, graphql_error("GRAPHQL_PARSE_FAILED", "Syntax Error"), errors.InvalidQueryError),
        (200, graphql_error("RESOURCE_NOT_FOUND"), errors.NotFoundError),
        (200, graphql_error("RESOURCE_CONFLICT"), errors.ConflictError),
        (200, graphql_error("MALFORMED_REQUEST"), errors.InvalidQueryError),
        (200, graphql_error("OPERATION_NOT_ALLOWED"), errors.OperationNotAllowedError),
        (200, graphql_error("INTERNAL_SERVER_ERROR", exception={"status": 400}), errors.InvalidQueryError),
        (200, graphql_error("INTERNAL_SERVER_ERROR", exception={"status": 422}), errors.UnprocessableError),
        (
            200,
            graphql_error("INTERNAL_SERVER_ERROR", exception={"status": 426}),
            errors.OperationNotAllowedError,
        ),
        (200, graphql_error("INTERNAL_SERVER_ERROR"), errors.ServerError),
        (401, {"message": "Unauthorized"}, errors.AuthenticationError),
        (403, {"message": "Forbidden"}, errors.AuthorizationError),
        (404, {"message": "nope"}, errors.NotFoundError),
    ],
)
def test_errors_map_to_our_hierarchy_and_are_not_retried(transport, requests_mock, status, payload, expected):
    requests_mock.post(URL, status_code=status, json=payload)
    with pytest.raises(expected) as caught:
        transport.execute(QUERY)
    assert requests_mock.call_count == 1
    assert "GetUserPyApi" in str(caught.value)


def test_embedded_transient_status_is_retried(transport, requests_mock):
    requests_mock.post(URL, [{"json": graphql_error("INTERNAL_SERVER_ERROR", exception={"status": 503})}, OK])
    assert transport.execute(QUERY)["user"]["id"] == "u1"


def test_ambiguous_failures_of_non_idempotent_mutations_are_not_repeated(transport, requests_mock):
    requests_mock.post(URL, [{"status_code": 502}, OK])
    with pytest.raises(errors.ServerError) as caught:
        transport.execute("mutation CreateDatasetPyApi{createDataset{id}}", idempotent=False)
    assert caught.value.ambiguous
    assert requests_mock.call_count == 1


CREATE = "mutation CreateDatasetPyApi{createDataset{id}}"


@pytest.mark.parametrize(
    "lost",
    [
        requests.exceptions.ChunkedEncodingError("IncompleteRead(100 bytes read, 50 more expected)"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("RemoteDisconnected('Remote end closed connection')"),
    ],
    ids=["cut-off-mid-body", "read-timeout", "dropped-after-sending"],
)
def test_an_answer_lost_after_sending_is_ambiguous_and_not_repeated(transport, requests_mock, lost):
    requests_mock.post(URL, [{"exc": lost}, {"json": {"data": {"createDataset": {"id": "d2"}}}}])
    with pytest.raises(errors.NetworkError) as caught:
        transport.execute(CREATE, idempotent=False)
    assert caught.value.ambiguous and caught.value.retryable
    assert requests_mock.call_count == 1


def test_resolve_returns_what_the_look_up_finds_and_sends_again_only_when_it_finds_nothing(
    transport, requests_mock, sleeps
):
    cut = {"exc": requests.exceptions.ChunkedEncodingError("IncompleteRead")}
    requests_mock.post(URL, [cut, cut, {"json": {"data": {"createDataset": {"id": "d3"}}}}])
    looked: list[int] = []

    def look_up() -> str | None:
        looked.append(requests_mock.call_count)
        return "found-d1" if len(looked) == 2 else None

    assert transport.resolve(lambda: transport.execute(CREATE, idempotent=False), look_up) == "found-d1"
    assert looked == [1, 2] and len(sleeps) == 1  # sent again once, after the first look-up found nothing
    never = Transport(KEY, URL, retry=RetryPolicy(max_attempts=2), sleep=sleeps.append)
    requests_mock.reset_mock()
    requests_mock.post(URL, [cut, cut, cut])
    with pytest.raises(errors.NetworkError, match="a look-up found nothing it made"):
        never.resolve(lambda: never.execute(CREATE, idempotent=False), lambda: None)
    assert requests_mock.call_count == 2  # max_attempts: the policy bounds creates too


def test_resolve_passes_unambiguous_failures_through_without_a_look_up(transport, requests_mock):
    requests_mock.post(URL, json=graphql_error("RESOURCE_CONFLICT", "name taken"))
    with pytest.raises(errors.ConflictError):
        transport.resolve(lambda: transport.execute(CREATE, idempotent=False), pytest.fail)


@pytest.mark.parametrize("first", [{"status_code": 503}, {"status_code": 429, "json": {}}])
def test_refusals_are_safe_to_repeat_even_for_mutations(transport, requests_mock, first):
    requests_mock.post(URL, [first, {"json": {"data": {"createDataset": {"id": "d"}}}}])
    data = transport.execute("mutation CreateDatasetPyApi{createDataset{id}}", idempotent=False)
    assert data == {"createDataset": {"id": "d"}}


def test_each_retry_is_logged_once_with_operation_and_wait(transport, requests_mock, caplog):
    requests_mock.post(URL, [{"status_code": 503}, {"status_code": 429, "json": {}}, OK])
    with caplog.at_level(logging.WARNING, logger="airflow_mmc_provider.client.transport"):
        transport.execute(QUERY)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert all("GetUserPyApi" in line and "retry" in line and "s" in line for line in lines)


def test_api_key_never_appears_in_errors_logs_or_repr(requests_mock, caplog):
    transport = Transport(KEY, URL, retry=RetryPolicy(max_attempts=2), sleep=lambda s: None)
    echo = {"data": None, "errors": [{"message": f"bad key {KEY}", "extensions": {"code": "X"}}]}
    requests_mock.post(URL, [{"status_code": 503, "text": f"upstream saw {KEY}"}, {"json": echo}])
    with caplog.at_level(logging.DEBUG), pytest.raises(errors.LabelboxError) as caught:
        transport.execute(QUERY)
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)
    assert KEY not in caplog.text
    assert KEY not in repr(transport)


def test_missing_api_key_is_a_clear_error():
    with pytest.raises(ValueError, match="password field of the Labelbox connection"):
        Transport("", URL)


def test_upload_is_a_spec_compliant_multipart_request(transport, requests_mock):
    requests_mock.post(URL, json={"data": {"uploadFile": {"url": "https://files/1", "filename": "x"}}})
    url = transport.upload(b"[1,2]", filename="chunk.json", content_type="application/json")
    assert url == "https://files/1"
    body = requests_mock.last_request.body
    assert body.index(b'name="operations"') < body.index(b'name="map"') < body.index(b'name="1"')
    assert b'"contentLength":5' in body and b'{"1":["variables.file"]}' in body


def test_downloads_do_not_send_the_api_key(transport, requests_mock):
    requests_mock.get("https://storage.test/file", content=b"abc")
    assert transport.download("https://storage.test/file") == b"abc"
    assert "Authorization" not in requests_mock.last_request.headers


def test_proxy_settings_come_from_the_environment_once_per_host(requests_mock, monkeypatch):
    """requests' per-request environment lookup is replaced by one per host; proxies still apply."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "direct.test")
    requests_mock.post(URL, **OK)
    requests_mock.get("https://storage.test/chunk", content=b"abc")
    requests_mock.get("https://direct.test/chunk", content=b"def")
    transport = Transport(KEY, URL)
    transport.execute(QUERY)
    assert transport.download("https://storage.test/chunk") == b"abc"
    assert transport.download("https://direct.test/chunk") == b"def"
    graphql, proxied, direct = requests_mock.request_history
    assert graphql.proxies.get("https") == "http://proxy.corp:3128"
    assert proxied.proxies.get("https") == "http://proxy.corp:3128"
    assert "https" not in direct.proxies
    assert "Authorization" not in proxied.headers  # file URLs never get the key


def test_a_session_passed_in_keeps_its_own_settings(requests_mock, monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    session = requests.Session()
    session.verify = "/etc/ssl/corp-ca.pem"
    requests_mock.post(URL, **OK)
    Transport(KEY, URL, session=session).execute(QUERY)
    assert session.trust_env and requests_mock.request_history[0].verify == "/etc/ssl/corp-ca.pem"


def test_cookies_the_service_sets_go_back_with_later_calls():
    """GraphQL requests are prepared by the transport, yet behave like a session's: a cookie the
    service sets (a load balancer's stickiness cookie, say) goes back with the next call."""
    seen: list[dict[str, str]] = []

    class Service(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(dict(self.headers))
            body = json.dumps(OK["json"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if len(seen) == 1:
                self.send_header("Set-Cookie", "AWSALB=sticky-1; Path=/")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Service) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        transport = Transport(KEY, f"http://127.0.0.1:{server.server_port}/graphql")
        transport.execute(QUERY)
        transport.execute(QUERY)
        server.shutdown()
    first, second = seen
    assert "Cookie" not in first
    assert second["Cookie"] == "AWSALB=sticky-1"
    assert second["Authorization"] == f"Bearer {KEY}" and second["Content-Type"] == "application/json"
