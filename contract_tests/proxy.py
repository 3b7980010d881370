"""A mutating proxy: a real sandbox behind it, one planted bug (a mutant) at a time in front, and
the sandbox's own /__sandbox/ API hidden, so what the suite sees is a wrong implementation of
EnKash's API and nothing more. The mutants are data (mutants.yaml); each names its kind, which is
one of the small rewrites below (of the request, the answer, or the state behind it).

The mutation test (tests/test_mutation.py) runs the suite against each mutant: a mutant the suite
does not catch is a contract the suite does not really check."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx
import uvicorn
import yaml

from .contract import INSUFFICIENT
from .links import ROUTES, Router, jsonio

HERE = Path(__file__).parent
HOP = {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server"}


@functools.cache
def catalogue() -> list[dict[str, Any]]:
    with open(HERE / "mutants.yaml", encoding="utf-8") as handle:
        return list(yaml.safe_load(handle)["mutants"])


@dataclass
class Call:
    method: str
    path: str
    operation: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: Any  # parsed JSON, or None
    raw: bytes


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: Any
    raw: bytes

    @property
    def outcome(self) -> tuple[Any, Any]:
        body = self.body if isinstance(self.body, dict) else {}
        if "code" in body:
            return body.get("code"), body.get("message")
        return body.get("response_code"), body.get("response_message")

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.outcome[0] == 0


Forward = Callable[[Call], Awaitable[Answer]]


# --- dotted paths in JSON ---------------------------------------------------------------------------
def _walk(doc: Any, path: str, change: Callable[[Any], Any]) -> None:
    """Apply `change` to every value at `path` (dots; `*` for every item of a list)."""
    head, _, rest = path.partition(".")
    items = doc if head == "*" and isinstance(doc, list) else [doc]
    for item in items:
        if head == "*":
            if rest:
                _walk(item, rest, change)
            continue
        if not isinstance(item, dict) or head not in item:
            continue
        if rest:
            _walk(item[head], rest, change)
        else:
            item[head] = change(item[head])


def _get(doc: Any, path: str) -> Any:
    for part in path.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _key_field(body: Any, fields: list[str]) -> str | None:
    return next((f for f in fields if isinstance(body, dict) and f in body), None)


def _fingerprint(body: dict[str, Any], key: str) -> bytes:
    return jsonio.dumps_sorted({k: v for k, v in body.items() if k != key})


# --- the mutants --------------------------------------------------------------------------------------
@dataclass
class Mutant:
    """A planted bug: `handle` sees each EnKash call and the way to the real sandbox."""

    spec: dict[str, Any]
    proxy: "MutatingProxy"
    memory: dict[str, Any] = field(default_factory=dict)
    first_wrong: float | None = None  # time.monotonic() of the first answer the bug changed

    @property
    def id(self) -> str:
        return str(self.spec["id"])

    def applies(self, call: Call) -> bool:
        wanted = self.spec.get("operations") or ([self.spec["operation"]] if "operation" in self.spec else None)
        return wanted is None or call.operation in wanted

    READS_THE_REQUEST = {"stale-balance", "drop-request-field", "fresh-key-on-repeat", "fresh-key-on-refusal", "repeat-success",
                         "fund-on-insufficient", "fake-success-on-insufficient", "fake-order-on-insufficient",
                         "charge-twice"}

    async def handle(self, call: Call, forward: Forward) -> Answer:
        """The kind's rewrite; the first time it changes what the partner sees is noted (`first_wrong`)."""
        if not self.applies(call) or (self.spec["kind"] in self.READS_THE_REQUEST and not isinstance(call.body, dict)):
            return await forward(call)  # these bugs live in the handling of well-formed requests
        sent = jsonio.dumps(call.body)
        upstream: list[tuple[bytes, int, bytes]] = []

        async def watched(forwarded: Call) -> Answer:
            answer = await forward(forwarded)
            upstream.append((jsonio.dumps(forwarded.body), answer.status, jsonio.dumps(answer.body)))
            return answer

        answer = await getattr(self, "kind_" + self.spec["kind"].replace("-", "_"))(call, watched)
        honest = len(upstream) == 1 and upstream[0] == (sent, answer.status, jsonio.dumps(answer.body))
        if not honest and self.first_wrong is None:
            self.first_wrong = time.monotonic()
        return answer

    # answer rewrites
    async def kind_rename_field(self, call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        if isinstance(answer.body, dict) and self.spec["from"] in answer.body:
            answer.body[self.spec["to"]] = answer.body.pop(self.spec["from"])
        return answer

    async def kind_stringify(self, call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        _walk(answer.body, self.spec["field"], str)
        return answer

    async def kind_copy_field(self, call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        value = _get(answer.body, self.spec["from"])
        if value is not None:
            _walk(answer.body, self.spec["field"], lambda _: value)
        return answer

    async def kind_lowercase(self, call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        _walk(answer.body, self.spec["field"], lambda v: v.lower() if isinstance(v, str) else v)
        return answer

    async def kind_unserved(self, call: Call, forward: Forward) -> Answer:
        """Not a bug: a target that does not serve the operation at all (404, as for any unknown path)."""
        message = f"No API at {call.path}"
        return Answer(404, [], {"response_code": 1, "response_message": message, "payload": message}, b"")

    async def kind_restatus(self, call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        was, message = self.spec.get("status_was"), self.spec.get("message")
        if (was is None or answer.status == was) and (message is None or answer.outcome[1] == message):
            answer.status = int(self.spec["status"])
        return answer

    async def kind_freeze_field(self, call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        if answer.ok:
            first = self.memory.setdefault("value", _get(answer.body, self.spec["field"]))
            _walk(answer.body, self.spec["field"], lambda _: first)
        return answer

    async def kind_stale_balance(self, call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        if answer.ok:
            amount = Decimal(str(call.body["loadAmount"]))
            moved = amount if call.body.get("transactionType") == "CR" else -amount
            _walk(answer.body, "payload.otbBalance", lambda v: Decimal(str(v)) - moved)
        return answer

    # request rewrites
    async def kind_drop_request_field(self, call: Call, forward: Forward) -> Answer:
        if isinstance(call.body, dict):
            call.body.pop(self.spec["field"], None)
        return await forward(call)

    def _fresh(self, call: Call, key: str) -> str:
        count = self.memory["fresh"] = self.memory.get("fresh", 0) + 1
        original = call.body[key]
        call.body[key] = f"{original}-X{count}"
        return str(original)

    @staticmethod
    def _echo(answer: Answer, original: str) -> Answer:
        _walk(answer.body, "payload.pgReferenceNumber", lambda _: original)
        return answer

    async def kind_fresh_key_on_repeat(self, call: Call, forward: Forward) -> Answer:
        """The same key with the same body again: sent on as a new request (credited again)."""
        key = _key_field(call.body, self.spec["fields"])
        if key is None:
            return await forward(call)
        seen = self.memory.setdefault("seen", {})
        fingerprint = _fingerprint(call.body, key)
        if seen.get(call.body[key]) == fingerprint:
            original = self._fresh(call, key)
            return self._echo(await forward(call), original)
        answer = await forward(call)
        if answer.ok:
            seen[call.body[key]] = fingerprint
        return answer

    async def kind_fresh_key_on_refusal(self, call: Call, forward: Forward) -> Answer:
        """A key refused as already used (for another body): sent on again under a new key."""
        key = _key_field(call.body, self.spec["fields"])
        answer = await forward(call)
        if key is None or answer.ok or "Duplicate" not in str(answer.outcome[1]):
            return answer
        original = self._fresh(call, key)
        return self._echo(await forward(call), original)

    async def kind_repeat_success(self, call: Call, forward: Forward) -> Answer:
        """Every success is applied twice (a second request under a new key); the first answer is kept."""
        key = _key_field(call.body, self.spec["fields"])
        kinds = self.spec.get("transaction_types")
        answer = await forward(call)
        if key is None or not answer.ok or (kinds and call.body.get("transactionType") not in kinds):
            return answer
        second = Call(call.method, call.path, call.operation, call.query, call.headers, dict(call.body), call.raw)
        self._fresh(second, key)
        await forward(second)
        return answer

    # state rewrites
    async def kind_fund_on_insufficient(self, call: Call, forward: Forward) -> Answer:
        """A credit beyond the account succeeds: the account is funded behind the partner's back first."""
        answer = await forward(call)
        if call.body.get("transactionType") == "CR" and answer.outcome[1] == INSUFFICIENT:
            account = call.body.get("cardAccountId") or self.spec.get("account")
            await self.proxy.admin("POST", f"accounts/{account}/load", {"amount": Decimal(str(call.body["loadAmount"])) + 1})
            answer = await forward(call)
        return answer

    async def kind_fake_success_on_insufficient(self, call: Call, forward: Forward) -> Answer:
        """A debit beyond the card 'succeeds': a success answer with the card's balance gone negative."""
        answer = await forward(call)
        if call.body.get("transactionType") != "DR" or answer.outcome[1] != INSUFFICIENT:
            return answer
        card_id = call.body.get("enKashCardId") or call.body.get("enkashCardId")
        search = Call("POST", "/api/v0/partner/enKashCard/search", "search", b"", call.headers,
                      {"companyId": call.body["companyId"], "cardAccountId": call.body.get("cardAccountId", ""), "enKashCardId": card_id}, b"")
        found = await forward(search)
        card = (found.body or {}).get("payload", {}).get("data", [{}])[0]
        reference = call.body.get("uniqueReferenceNumber") or call.body.get("uniqueReferenceNum")
        payload = {k: card.get(k) for k in ("enKashCardId", "userId", "cardAccountId", "token", "maskedNumber", "email", "mobile",
                                            "title", "firstName", "gender")}
        payload.update(enkashCardTxnId="ECTFAKE000" + str(len(self.memory)).zfill(3)[-3:], pgReferenceNumber=reference,
                       otbBalance=Decimal(str(card.get("otbBalance", 0))) - Decimal(str(call.body["loadAmount"])))
        self.memory[reference] = True
        return Answer(200, [("content-type", "application/json")], {"code": 0, "message": "Success", "payload": payload}, b"")

    async def kind_fake_order_on_insufficient(self, call: Call, forward: Forward) -> Answer:
        """An order beyond the card 'is placed': a success answer, though the card could not pay (nothing was drawn)."""
        answer = await forward(call)
        if answer.outcome[1] != INSUFFICIENT:
            return answer
        count = self.memory["fake"] = self.memory.get("fake", 0) + 1
        payload = {**call.body, "orderId": f"FAKEORDER{count:05d}", "orderStatus": "SUCCESS", "paymentStatus": "SUCCESS",
                   "totalQuantity": call.body.get("quantity")}
        return Answer(200, [("content-type", "application/json")], {"response_code": 0, "response_message": "Success", "payload": payload}, b"")

    async def kind_charge_twice(self, call: Call, forward: Forward) -> Answer:
        """Every credit takes its amount from the account twice (the account reads show the loss)."""
        answer = await forward(call)
        if call.operation == "create-allocate-points" and answer.ok and call.body.get("transactionType") == "CR":
            self.memory["lost"] = self.memory.get("lost", Decimal(0)) + Decimal(str(call.body["loadAmount"]))
        if call.operation == "card-account-get" and answer.ok:
            _walk(answer.body, "payload.availableBalance", lambda v: Decimal(str(v)) - self.memory.get("lost", Decimal(0)))
        return answer


# --- the proxy --------------------------------------------------------------------------------------
class MutatingProxy:
    """ASGI app: forwards EnKash calls to `upstream` through the current mutant; /__sandbox/ is 404."""

    def __init__(self, upstream: str, admin_token: str = "") -> None:
        self.upstream = upstream.rstrip("/")
        self.admin_token = admin_token
        self.router = Router(ROUTES)
        self.mutant: Mutant | None = None
        self._client: httpx.AsyncClient | None = None

    def plant(self, spec: dict[str, Any] | None) -> None:
        self.mutant = None if spec is None else Mutant(spec, self)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.upstream, timeout=60)
        return self._client

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": "Bearer " + self.admin_token} if self.admin_token else {}
        response = await self.client.request(method, "/__sandbox/" + path, content=jsonio.dumps(body) if body is not None else None,
                                             headers={**headers, "Content-Type": "application/json"})
        return response.json()

    async def forward(self, call: Call) -> Answer:
        raw = call.raw if call.body is None else jsonio.dumps(call.body)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in call.headers if k.decode("latin-1").lower() not in HOP | {"host"}]
        url = call.path + ("?" + call.query.decode("latin-1") if call.query else "")
        response = await self.client.request(call.method, url, content=raw, headers=headers)
        body = None
        try:
            body = jsonio.loads(response.content) if response.content else None
        except Exception:
            body = None
        return Answer(response.status_code, [(k, v) for k, v in response.headers.items() if k.lower() not in HOP], body, response.content)

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        path = scope["path"]
        if path.startswith("/__sandbox"):  # the admin API is hidden: a foreign target has none
            message = f"No API at {path}"
            await _send(send, Answer(404, [], {"response_code": 1, "response_message": message, "payload": message}, b""))
            return
        found = self.router.find(scope["method"], path)
        body = None
        if raw and b"json" in dict(scope["headers"]).get(b"content-type", b""):
            try:
                body = jsonio.loads(raw)
            except Exception:
                body = None
        call = Call(scope["method"], path, found.route.operation if found.route else "", scope.get("query_string", b""),
                    list(scope["headers"]), body, raw)
        mutant = self.mutant
        answer = await (mutant.handle(call, self.forward) if mutant is not None else self.forward(call))
        await _send(send, answer)


async def _send(send: Callable[..., Any], answer: Answer) -> None:
    content = answer.raw if answer.body is None else jsonio.dumps(answer.body)
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers if k.lower() != "content-type"]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


class ProxyThread:
    """The proxy on a free loopback port, in a background thread (like sandbox's ServerThread)."""

    def __init__(self, proxy: MutatingProxy) -> None:
        self.proxy = proxy
        config = uvicorn.Config(proxy, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off")  # type: ignore[arg-type]
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), name="mutating-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.servers[0].sockets[0].getsockname()[1]}"

    def __enter__(self) -> "ProxyThread":
        self._thread.start()
        for _ in range(1000):
            if self._server.started:
                return self
            threading.Event().wait(0.01)
        raise RuntimeError("the mutating proxy did not start")

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
