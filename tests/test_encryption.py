"""Encrypted payload mode (docs/enkash-api.md#encryption) over real HTTP: known vectors, an independent AES
implementation in this file (cryptography's raw cipher with hand-made PKCS7 padding, checked
against FIPS-197 and vectors made with the openssl CLI), every error case, and full flows."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import yaml
from conftest import (
    DOCS_ACCOUNT, DOCS_BASIC, DOCS_COMPANY, DOCS_LOGIN, DOCS_PARTNER, OTHER_ACCOUNT, OTHER_BASIC, OTHER_COMPANY,
    OTHER_LOGIN, OTHER_PARTNER, PARTNER_PATH, new_user,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sandbox.contract import crypto
from sandbox.domain import errors
from sandbox.settings import Settings, bundled_fixtures_dir
from sandbox.tools.testing import ServerThread

DOCS_SECRET = "64b0ff0332f058b56402b63a9baa60214f2d61d3"
OTHER_SECRET = "3f9a1c5e7b2d4f6a8c0e1b3d5f7a9c1e3b5d7f9a"
START_BALANCE = 1000000  # CAQL8YCV3's availableBalance in fixtures/default.yaml
ACCOUNT_QUERY = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}
INVALID_ENCRYPTED = "Invalid encrypted request."
INVALID_FORMAT = "Invalid request format."
NOT_ENVELOPE = 'the body is not {"request": "<base64 ciphertext>"}'
BLOCKS = "the ciphertext is {} bytes, not a positive multiple of the 16-byte AES block"
WRONG_KEY = "bad PKCS5 padding after decryption: wrong key (client secret) or corrupted ciphertext"

# (secret, plaintext, ciphertext) made with: printf '%s' PLAINTEXT | openssl enc -aes-128-ecb \
#   -K $(printf SECRET | sha256sum | cut -c1-32) -base64 -A
OPENSSL_VECTORS = [
    (DOCS_SECRET, b"", "vjnnjwP+5AxJJfbQuTBhqg=="),
    (DOCS_SECRET, b'{"a": 1}', "b/sA2zzzCCPPR3Hnwam4pw=="),
    (DOCS_SECRET, b'{"k":"abcdefgh"}', "AhdSFRi/rrrRXAF+EPRKUL45548D/uQMSSX20LkwYao="),
    (DOCS_SECRET, '{"name":"Zoë ₹"}'.encode(), "dAsMaYhc+KqaQImwdgYbsbhoQwl5d+7fWtPZErmJ8k8="),
    (DOCS_SECRET, b'{"companyId":"CEK1PU9AOO","cardAccountId":"CAQL8YCV3"}',
     "b8vs/WqLBUiYKYa4fNAzGnnSEo530tCinOw4syyE1izDHbO/vM/4FlOrMzZc2AGS0yxb7Ue8GIDStkscj5e64A=="),
    (OTHER_SECRET, b'{"companyId":"CEKBVCGMR1","cardAccountId":"CA1ZS96"}',
     "FNS1137OFOYtVc5AvTLY9m+ZrrbQdKrN7JBOeJj7YduaSNhIXQ1GaRiD3MNIoC36jcank2MvC1Gbr6X2MBDjMg=="),
]


# --- the independent implementation -----------------------------------------------------------
def ind_key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()[:16]


def ind_encrypt(plaintext: bytes, secret: str) -> str:
    pad = 16 - len(plaintext) % 16
    encryptor = Cipher(algorithms.AES(ind_key(secret)), modes.ECB()).encryptor()
    return base64.b64encode(encryptor.update(plaintext + bytes([pad]) * pad) + encryptor.finalize()).decode()


def ind_decrypt(text: str, secret: str) -> bytes:
    decryptor = Cipher(algorithms.AES(ind_key(secret)), modes.ECB()).decryptor()
    padded = decryptor.update(base64.b64decode(text)) + decryptor.finalize()
    pad = padded[-1]
    assert 1 <= pad <= 16 and padded[-pad:] == bytes([pad]) * pad, "bad PKCS7 padding"
    return padded[:-pad]


def envelope(doc: Any, secret: str = DOCS_SECRET) -> dict[str, str]:
    return {"request": ind_encrypt(json.dumps(doc).encode(), secret)}


def opened(response: httpx.Response, secret: str = DOCS_SECRET) -> Any:
    """The JSON inside a sealed response, which must be exactly {"request": "<base64>"}."""
    body = response.json()
    assert list(body) == ["request"] and isinstance(body["request"], str), response.text
    return json.loads(ind_decrypt(body["request"], secret))


def plain_failure(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"response_code": 1, "response_message": message, "payload": message}


# --- servers: required everywhere, and per-partner modes -----------------------------------------
def _client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.post("/__sandbox/reset", params={"seed": 7}).status_code == 200
        yield client


@pytest.fixture(scope="module")
def required_server() -> Iterator[ServerThread]:
    with ServerThread(Settings(encryption="required", validate_responses=True, seed=7)) as running:
        yield running


@pytest.fixture(scope="module")
def mixed_server() -> Iterator[ServerThread]:
    """Global `required`, but the docs partner says `optional` and the other partner `off`;
    failures to decrypted requests are plain (encrypt_errors off)."""
    doc = yaml.safe_load((bundled_fixtures_dir() / "default.yaml").read_text())
    doc = copy.deepcopy(doc)
    modes_by_partner = {DOCS_PARTNER: "optional", OTHER_PARTNER: "off"}
    for partner in doc["partners"]:
        partner["encryption"] = modes_by_partner[partner["partnerId"]]
    settings = Settings(encryption="required", encrypt_errors=False, validate_responses=True, seed=7)
    with ServerThread(settings, doc) as running:
        yield running


@pytest.fixture()
def req(required_server: ServerThread) -> Iterator[httpx.Client]:
    yield from _client(required_server)


@pytest.fixture()
def mixed(mixed_server: ServerThread) -> Iterator[httpx.Client]:
    yield from _client(mixed_server)


def login(http: httpx.Client, basic: str = DOCS_BASIC, form: dict[str, str] = DOCS_LOGIN) -> str:
    response = http.post("/oauth/token", headers={"Authorization": basic}, data=form)
    assert response.status_code == 200, response.text
    assert "request" not in response.json()  # the token call stays plain
    return response.json()["access_token"]  # type: ignore[no-any-return]


def headers(token: str, partner: str = DOCS_PARTNER) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "partnerId": partner}


def allocation(**fields: Any) -> dict[str, Any]:
    return {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "transactionCode": "ALLOCATION",
            "transactionType": "CR", "type": "ALLOCATE_POINT", **new_user(**fields)}


# --- the primitives -----------------------------------------------------------------------------
def test_key_is_the_first_16_bytes_of_sha256_of_the_secret():
    assert crypto.derive_key(DOCS_SECRET).hex() == "e3eeeadf58b51bbad8eab01688e93356"
    assert crypto.derive_key(OTHER_SECRET).hex() == "460425ad9e77a752af3ccc3fc54892c2"
    assert crypto.derive_key("clé") == hashlib.sha256("clé".encode("utf-8")).digest()[:16]


def test_fips197_aes128_vector_and_a_full_padding_block():
    key = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    blob = base64.b64decode(crypto.encrypt(bytes.fromhex("00112233445566778899aabbccddeeff"), key))
    assert len(blob) == 32 and blob[:16].hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    assert decryptor.update(blob[16:]) + decryptor.finalize() == bytes([16]) * 16


@pytest.mark.parametrize("secret, plaintext, ciphertext", OPENSSL_VECTORS)
def test_openssl_vectors_both_ways(secret, plaintext, ciphertext):
    assert crypto.encrypt(plaintext, crypto.derive_key(secret)) == ciphertext
    assert crypto.decrypt(ciphertext, crypto.derive_key(secret)) == plaintext
    assert ind_encrypt(plaintext, secret) == ciphertext  # the independent side agrees with openssl too
    assert ind_decrypt(ciphertext, secret) == plaintext


@pytest.mark.parametrize("size", range(0, 50))
def test_every_padding_length_round_trips_against_the_independent_side(size):
    plaintext = bytes(range(65, 65 + size % 26)) * (size // 26) + bytes(range(65, 65 + size % 26))
    plaintext = plaintext[:size].ljust(size, b"z")
    ours = crypto.encrypt(plaintext, crypto.derive_key(DOCS_SECRET))
    assert len(base64.b64decode(ours)) == (size // 16 + 1) * 16
    assert ind_decrypt(ours, DOCS_SECRET) == plaintext
    assert crypto.decrypt(ind_encrypt(plaintext, DOCS_SECRET), crypto.derive_key(DOCS_SECRET)) == plaintext


def test_python_helpers_for_partners():
    sent = crypto.encrypt_json({"a": 1}, DOCS_SECRET)
    assert sent == {"request": ind_encrypt(b'{"a":1}', DOCS_SECRET)}
    assert crypto.decrypt_json(sent, DOCS_SECRET) == {"a": 1}
    assert crypto.decrypt_json(json.dumps(sent), DOCS_SECRET) == {"a": 1}
    assert crypto.decrypt_json(json.dumps(sent).encode(), DOCS_SECRET) == {"a": 1}
    assert crypto.decrypt_json("b/sA2zzzCCPPR3Hnwam4pw==", DOCS_SECRET) == {"a": 1}
    assert crypto.decrypt_json("b/sA2zzz\nCCPPR3Hnwam4pw==\n", DOCS_SECRET) == {"a": 1}  # MIME line breaks
    with pytest.raises(errors.EncryptedRequestInvalid):
        crypto.decrypt_json(sent, OTHER_SECRET)
    with pytest.raises(errors.RequestFormatInvalid):
        crypto.decrypt_json(ind_encrypt(b"not json", DOCS_SECRET), DOCS_SECRET)


# --- the full flow in required mode ---------------------------------------------------------------
def test_full_flow_token_allocation_balance_search_in_required_mode(req):
    token = login(req)
    url = PARTNER_PATH + "/create-allocate-points"
    response = req.post(url, json=envelope(allocation(uniqueReferenceNumber="ENC-1")), headers=headers(token))
    assert response.status_code == 200
    result = opened(response)
    assert result["code"] == 0 and result["message"] == "Success"
    card = result["payload"]
    assert (card["otbBalance"], card["pgReferenceNumber"], card["mobile"]) == (100, "ENC-1", "9000000001")
    assert card["maskedNumber"] == "XXXX XXXX XXXX 0001" and card["cardAccountId"] == DOCS_ACCOUNT

    account = opened(req.post(PARTNER_PATH + "/cardAccount/get", json=envelope(ACCOUNT_QUERY), headers=headers(token)))
    assert account["response_code"] == 0
    assert account["payload"]["availableBalance"] == START_BALANCE - 100
    assert account["payload"]["totalAllocationPoint"] == 100

    query = {**ACCOUNT_QUERY, "enKashCardId": card["enKashCardId"]}
    found = opened(req.post(PARTNER_PATH + "/search", json=envelope(query), headers=headers(token)))
    assert found["code"] == 0
    assert [(c["enKashCardId"], c["otbBalance"]) for c in found["payload"]["data"]] == [(card["enKashCardId"], 100)]

    for _ in range(2):  # the second answer is the kept page's own bytes (jsonio.Raw), sealed alike
        page = opened(req.post(PARTNER_PATH + "/transaction/all", json=envelope(query), headers=headers(token)))
        assert (page["code"], page["message"], page["payload"]["recordsCount"]) == (0, "Success", 1)
        assert [(r["pgReferenceNumber"], r["principalAmount"], r["balance"]) for r in page["payload"]["data"]] == [("ENC-1", 100, 100)]


def test_same_encrypted_request_twice_credits_once(req):
    token = login(req)
    body = envelope(allocation(uniqueReferenceNumber="ENC-IDEM"))
    first = req.post(PARTNER_PATH + "/create-allocate-points", json=body, headers=headers(token))
    second = req.post(PARTNER_PATH + "/create-allocate-points", json=body, headers=headers(token))
    assert first.status_code == second.status_code == 200
    assert opened(first) == opened(second)
    assert opened(first)["payload"]["otbBalance"] == 100
    account = opened(req.post(PARTNER_PATH + "/cardAccount/get", json=envelope(ACCOUNT_QUERY), headers=headers(token)))
    assert account["payload"]["availableBalance"] == START_BALANCE - 100


def test_decrypted_answers_equal_the_plain_servers_answers(req, docs_partner):
    """GET (no body) is sealed in required mode; validation failures to a decrypted request are
    sealed too (encrypt_errors on) and say exactly what the plain server says."""
    token = login(req)
    got = req.get("/api/v0/enkash-coins/WCC12345", headers=headers(token))
    plain = docs_partner.http.get("/api/v0/enkash-coins/WCC12345", headers=docs_partner.headers)
    assert got.status_code == plain.status_code == 200
    assert opened(got) == plain.json() and plain.json()["response_code"] == 0

    incomplete = {"companyId": DOCS_COMPANY}
    got = req.post(PARTNER_PATH + "/cardAccount/get", json=envelope(incomplete), headers=headers(token))
    plain = docs_partner.post("/cardAccount/get", incomplete)
    assert plain.status_code in (400, 422) and got.status_code == plain.status_code
    assert opened(got) == plain.json()


# --- every error case (required mode) -------------------------------------------------------------
def _ciphertext_cases() -> list[tuple[str, Any, str, str]]:
    query = json.dumps(ACCOUNT_QUERY).encode()
    return [
        ("plain JSON body", allocation(uniqueReferenceNumber="ENC-BAD"), INVALID_ENCRYPTED, NOT_ENVELOPE),
        ("request is not a string", {"request": 12}, INVALID_ENCRYPTED, NOT_ENVELOPE),
        ("extra key", {**envelope(ACCOUNT_QUERY), "partnerId": DOCS_PARTNER}, INVALID_ENCRYPTED, NOT_ENVELOPE),
        ("not base64", {"request": "%%% not base64 %%%"}, INVALID_ENCRYPTED, "the request value is not valid Base64"),
        ("empty ciphertext", {"request": ""}, INVALID_ENCRYPTED, BLOCKS.format(0)),
        ("not whole blocks", {"request": base64.b64encode(b"0123456789").decode()}, INVALID_ENCRYPTED, BLOCKS.format(10)),
        ("another client's key", {"request": ind_encrypt(query, OTHER_SECRET)}, INVALID_ENCRYPTED, WRONG_KEY),
        ("plaintext not JSON", {"request": ind_encrypt(b"companyId=CEK1PU9AOO", DOCS_SECRET)}, INVALID_FORMAT,
         "the decrypted request is not JSON: Malformed JSON request body: Expecting value at line 1 column 1"),
        ("plaintext not UTF-8", {"request": ind_encrypt(b'{"a":"\xff"}', DOCS_SECRET)}, INVALID_FORMAT,
         "the decrypted request is not JSON: Malformed JSON request body: body is not valid UTF-8 (byte 6)"),
    ]


@pytest.mark.parametrize("case, body, message, reason", _ciphertext_cases(), ids=[c[0] for c in _ciphertext_cases()])
def test_bad_encrypted_bodies_get_the_documented_422_in_plain_and_change_nothing(req, case, body, message, reason):
    token = login(req)
    response = req.post(PARTNER_PATH + "/create-allocate-points", json=body, headers=headers(token))
    plain_failure(response, 422, message)
    assert response.headers["X-Sandbox-Encryption-Error"] == reason
    account = opened(req.post(PARTNER_PATH + "/cardAccount/get", json=envelope(ACCOUNT_QUERY), headers=headers(token)))
    assert account["payload"]["availableBalance"] == START_BALANCE


def test_body_that_is_not_json_at_all(req):
    token = login(req)
    response = req.post(PARTNER_PATH + "/cardAccount/get", content=b"\x00\x01 garbage",
                        headers={**headers(token), "Content-Type": "application/json"})
    plain_failure(response, 422, INVALID_ENCRYPTED)


def test_auth_failures_come_before_decryption_and_stay_plain(req):
    response = req.post(PARTNER_PATH + "/cardAccount/get", json=envelope(ACCOUNT_QUERY))
    plain_failure(response, 401, "Full authentication is required to access this resource")
    response = req.post(PARTNER_PATH + "/cardAccount/get", json=envelope(ACCOUNT_QUERY),
                        headers={"Authorization": "Bearer nope", "partnerId": DOCS_PARTNER})
    plain_failure(response, 401, "Invalid access token")


def test_business_failure_is_sealed(req):
    token = login(req)
    body = allocation(uniqueReferenceNumber="ENC-BIG", loadAmount=START_BALANCE + 1)
    response = req.post(PARTNER_PATH + "/create-allocate-points", json=envelope(body), headers=headers(token))
    assert response.status_code == 200
    inside = opened(response)
    assert inside["response_code" if "response_code" in inside else "code"] == 1


def test_key_that_cannot_be_derived_is_the_documented_403(req, required_server):
    token = login(req)
    required_server.state.store.clients.pop(DOCS_LOGIN["clientId"])  # the token's client is gone
    try:
        response = req.post(PARTNER_PATH + "/cardAccount/get", json=envelope(ACCOUNT_QUERY), headers=headers(token))
        plain_failure(response, 403, "Encryption failed for response.")
        assert response.headers["X-Sandbox-Encryption-Error"] == "no client secret for clientId CEK1GZBO6A"
        plain_failure(req.get("/api/v0/enkash-coins/WCC12345", headers=headers(token)), 403, "Encryption failed for response.")
    finally:
        req.post("/__sandbox/reset", params={"seed": 7})


def test_each_client_uses_its_own_secret(req):
    token = login(req, OTHER_BASIC, OTHER_LOGIN)
    query = {"companyId": OTHER_COMPANY, "cardAccountId": OTHER_ACCOUNT}
    response = req.post(PARTNER_PATH + "/cardAccount/get", json=envelope(query, OTHER_SECRET), headers=headers(token, OTHER_PARTNER))
    assert opened(response, OTHER_SECRET)["payload"]["availableBalance"] == 500000
    response = req.post(PARTNER_PATH + "/cardAccount/get", json=envelope(query, DOCS_SECRET), headers=headers(token, OTHER_PARTNER))
    plain_failure(response, 422, INVALID_ENCRYPTED)


# --- per-partner modes: optional answers in kind, off ignores envelopes ------------------------------
def test_optional_partner_is_answered_in_kind(mixed):
    token = login(mixed)
    url = PARTNER_PATH + "/cardAccount/get"
    plain = mixed.post(url, json=ACCOUNT_QUERY, headers=headers(token))
    assert plain.status_code == 200 and plain.json()["payload"]["availableBalance"] == START_BALANCE
    sealed = mixed.post(url, json=envelope(ACCOUNT_QUERY), headers=headers(token))
    assert sealed.status_code == 200 and opened(sealed) == plain.json()
    coins = mixed.get("/api/v0/enkash-coins/WCC12345", headers=headers(token))
    assert coins.status_code == 200 and coins.json()["response_code"] == 0  # no body: plain
    plain_failure(mixed.post(url, json={"request": "%%%"}, headers=headers(token)), 422, INVALID_ENCRYPTED)


def test_encrypt_errors_off_gives_plain_failures_to_decrypted_requests(mixed):
    token = login(mixed)
    url = PARTNER_PATH + "/cardAccount/get"
    incomplete = {"companyId": DOCS_COMPANY}
    from_plain = mixed.post(url, json=incomplete, headers=headers(token))
    from_sealed = mixed.post(url, json=envelope(incomplete), headers=headers(token))
    assert from_plain.status_code in (400, 422)
    assert (from_sealed.status_code, from_sealed.json()) == (from_plain.status_code, from_plain.json())


def test_partner_with_encryption_off_treats_an_envelope_as_a_plain_body(mixed, docs_partner):
    token = login(mixed, OTHER_BASIC, OTHER_LOGIN)
    query = {"companyId": OTHER_COMPANY, "cardAccountId": OTHER_ACCOUNT}
    response = mixed.post(PARTNER_PATH + "/cardAccount/get", json=query, headers=headers(token, OTHER_PARTNER))
    assert response.status_code == 200 and response.json()["payload"]["availableBalance"] == 500000
    wrapped = envelope(query, OTHER_SECRET)
    response = mixed.post(PARTNER_PATH + "/cardAccount/get", json=wrapped, headers=headers(token, OTHER_PARTNER))
    reference = docs_partner.post("/cardAccount/get", wrapped)  # the default (off) server's answer
    assert response.status_code == reference.status_code and response.status_code in (400, 422)
    assert response.json() == reference.json()


# --- the CLI --------------------------------------------------------------------------------------
def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], input=stdin, capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parent.parent)


def test_cli_encrypt_and_decrypt():
    done = cli("encrypt", "--secret", DOCS_SECRET, '{"a": 1}')
    assert (done.returncode, done.stdout, done.stderr) == (0, '{"request":"b/sA2zzzCCPPR3Hnwam4pw=="}\n', "")
    done = cli("encrypt", "--secret", DOCS_SECRET, stdin='{"k":"abcdefgh"}\n')
    assert done.stdout == '{"request":"AhdSFRi/rrrRXAF+EPRKUL45548D/uQMSSX20LkwYao="}\n'
    done = cli("decrypt", "--secret", DOCS_SECRET, stdin='{"request":"b/sA2zzzCCPPR3Hnwam4pw=="}')
    assert (done.returncode, done.stdout) == (0, '{"a": 1}\n')
    done = cli("decrypt", "--secret", DOCS_SECRET, "AhdSFRi/rrrRXAF+EPRKUL45548D/uQMSSX20LkwYao=")
    assert (done.returncode, done.stdout) == (0, '{"k":"abcdefgh"}\n')


def test_cli_errors():
    done = cli("encrypt", "--secret", DOCS_SECRET, '{"a":')
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == "enkash-sandbox encrypt: Malformed JSON request body: Expecting value at line 1 column 6\n"
    done = cli("decrypt", "--secret", OTHER_SECRET, "b/sA2zzzCCPPR3Hnwam4pw==")
    assert done.returncode == 1 and done.stderr == (
        "enkash-sandbox decrypt: Invalid encrypted request. (bad PKCS5 padding after decryption: "
        "wrong key (client secret) or corrupted ciphertext)\n")
    done = cli("decrypt", "--secret", DOCS_SECRET, ind_encrypt(b"hello", DOCS_SECRET))
    assert (done.returncode, done.stdout) == (1, "hello\n")
    assert done.stderr.startswith("enkash-sandbox decrypt: Invalid request format. (the decrypted request is not JSON")
    assert cli("decrypt", "--secret", DOCS_SECRET, "@@@").stderr == (
        "enkash-sandbox decrypt: Invalid encrypted request. (the request value is not valid Base64)\n")


# --- journal and faults work the same in encrypted mode --------------------------------------------
def test_journal_keeps_wire_and_decrypted_bodies(req):
    token = login(req)
    wire = envelope(ACCOUNT_QUERY)
    response = req.post(PARTNER_PATH + "/cardAccount/get", json=wire, headers=headers(token))
    request_id = response.headers["X-Request-Id"]
    entries = [e for e in req.get("/__sandbox/journal").json()["requests"] if e["requestId"] == request_id]
    assert len(entries) == 1
    entry = entries[0]
    assert json.loads(entry["request"]["body"]) == wire
    assert json.loads(entry["request"]["decryptedBody"]) == ACCOUNT_QUERY
    assert entry["response"]["body"] == response.text
    assert json.loads(entry["response"]["decryptedBody"]) == opened(response)


def test_faults_apply_in_encrypted_mode(req):
    token = login(req)
    url = PARTNER_PATH + "/cardAccount/get"
    response = req.post(url, json=envelope(ACCOUNT_QUERY), headers={**headers(token), "X-Sandbox-Fault": "status=503"})
    plain_failure(response, 503, "Service Unavailable")  # answered before the app: nothing was decrypted
    response = req.post(url, json=envelope(ACCOUNT_QUERY), headers={**headers(token), "X-Sandbox-Fault": "status=403; message=Encryption failed for response."})
    plain_failure(response, 403, "Encryption failed for response.")  # the documented 403, on demand
    response = req.post(url, json=envelope(ACCOUNT_QUERY), headers={**headers(token), "X-Sandbox-Fault": "latency=5ms"})
    assert response.status_code == 200 and opened(response)["payload"]["availableBalance"] == START_BALANCE


def test_encrypting_transport_runs_a_plain_suite_against_required_mode(required_server, req):
    from sandbox.tools.encrypting_transport import EncryptingTransport

    with httpx.Client(base_url=required_server.url, transport=EncryptingTransport(DOCS_SECRET)) as client:
        token = login(client)
        response = client.post(PARTNER_PATH + "/create-allocate-points", json=allocation(uniqueReferenceNumber="T-1"),
                               headers=headers(token))
        assert response.status_code == 200 and response.json()["payload"]["otbBalance"] == 100
        response = client.post(PARTNER_PATH + "/cardAccount/get", json=ACCOUNT_QUERY, headers=headers(token))
        assert response.json()["payload"]["availableBalance"] == START_BALANCE - 100
        incomplete = client.post(PARTNER_PATH + "/cardAccount/get", json={"companyId": DOCS_COMPANY}, headers=headers(token))
        plain_failure(incomplete, 400, "cardAccountId is required")  # sealed by the server, opened by the transport
    wire = req.post(PARTNER_PATH + "/cardAccount/get", json=ACCOUNT_QUERY, headers=headers(token))
    plain_failure(wire, 422, INVALID_ENCRYPTED)  # without the transport the same body is refused
