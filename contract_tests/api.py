"""The suite's only way to a target: EnKash's API over HTTP. Every exchange is recorded (request as
curl, status, body) so a violation can show the one that proves it; every answer is checked for
the contracts that hold for all of them (no 5xx, a JSON body, a documented status and shape).

`Partner` is the target seen as a partner sees it: its account, its cards, their transactions,
coins; every write it makes uses identifiers of this run (identity.RunIds)."""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

import httpx

from .contract import ContractViolation, require, shape_problem
from .identity import RunIds
from .links import SandboxClient, jsonio
from .magic import MagicTable

PARTNER = "/api/v0/partner/enKashCard"
COINS = "/api/v0/enkash-coins"
ALLOCATE = f"{PARTNER}/create-allocate-points"
ORDER = "/api/v0/partner/create-order"
SEARCH_CONFIG = "/api/v0/partner/search-config"
PAGE = 1000  # the largest page search and transaction/all give


class TargetProblem(AssertionError):
    """The target cannot be used as configured (login refused, account unknown): not a contract verdict."""


@dataclass
class Exchange:
    method: str
    path: str
    request: httpx.Request | None
    status: int = 0
    text: str = ""
    body: Any = None
    error: str = ""
    seconds: float = 0.0

    def curl(self) -> str:
        request = self.request
        if request is None:
            return f"# {self.method} {self.path}"
        parts = ["curl", "-sS", "-X", request.method]
        for name, value in request.headers.items():
            if name.lower() not in ("host", "content-length", "accept-encoding", "connection", "user-agent", "accept"):
                parts += ["-H", f"{name}: {value}"]
        if request.content:
            parts += ["--data-binary", request.content.decode("utf-8", "replace")]
        parts.append(str(request.url))
        return " ".join(shlex.quote(p) for p in parts)

    def shown(self, limit: int = 1500) -> str:
        answer = f"HTTP {self.status} {self.text[:limit]}" if not self.error else f"no answer: {self.error}"
        return f"{self.curl()}\n# -> {answer}"

    @property
    def outcome(self) -> tuple[Any, Any]:
        """(code, message) from either envelope; (None, None) when the body has neither."""
        body = self.body if isinstance(self.body, dict) else {}
        if "code" in body:
            return body.get("code"), body.get("message")
        if "response_code" in body:
            return body.get("response_code"), body.get("response_message")
        return None, None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.outcome[0] == 0

    @property
    def payload(self) -> Any:
        return self.body.get("payload") if isinstance(self.body, dict) else None

    @property
    def refused(self) -> bool:
        return not self.ok


@dataclass(frozen=True)
class Offer:
    """A voucher the suite can order: `price` (the config's sellRate) is what one costs the card."""

    product: str
    denomination: int
    price: Decimal
    max_quantity: int


@dataclass
class Target:
    """Where the suite points, and as whom. `owned`: the suite started this sandbox itself."""

    url: str
    client_id: str
    client_secret: str
    username: str
    password: str
    partner_id: str
    company_id: str
    account_id: str
    admin_token: str = ""
    is_sandbox: bool = False  # the sandbox-only admin API (/__sandbox/) answers: adds checks, never needed
    owned: bool = False
    coins_company_id: str = ""  # default: company_id
    product_catalog_id: str = "PC7324536190LULHL"
    denomination: int = 100
    fixtures: tuple[str, ...] = field(default=())


class Api:
    """HTTP to the target with a token; the log keeps every exchange."""

    def __init__(self, target: Target, timeout: float = 30.0) -> None:
        self.target = target
        self.client = SandboxClient(target.url, admin_token=target.admin_token, timeout=timeout)
        self.log: list[Exchange] = []
        self.token = ""

    def close(self) -> None:
        self.client.close()

    def login(self) -> str:
        t = self.target
        import base64

        basic = base64.b64encode(f"{t.client_id}:{t.client_secret}".encode()).decode()
        form = {"username": t.username, "password": t.password, "grant_type": "password", "clientId": t.client_id}
        exchange = self.call("POST", "/oauth/token", form=form, headers={"Authorization": "Basic " + basic}, auth="none")
        if exchange.status != 200 or not isinstance(exchange.body, dict) or "access_token" not in exchange.body:
            raise TargetProblem(f"the token call was refused, check the client id, secret, login and password:\n{exchange.shown()}")
        self.token = exchange.body["access_token"]
        return self.token

    def call(self, method: str, path: str, *, body: Any = None, params: Mapping[str, Any] | None = None,
             form: Mapping[str, str] | None = None, raw: bytes | None = None, headers: Mapping[str, str] | None = None,
             auth: str = "partner", check: bool = True) -> Exchange:
        """One request. `auth`: partner (bearer + partnerId), bearer, none. `check`: apply the
        contracts every answer keeps (no 5xx, JSON, documented status and shape)."""
        sent = dict(headers or {})
        if auth in ("partner", "bearer") and self.token:
            sent["Authorization"] = "Bearer " + self.token
        if auth == "partner":
            sent["partnerId"] = self.target.partner_id
        content = raw
        if body is not None:
            content = jsonio.dumps(body)
            sent.setdefault("Content-Type", "application/json")
        started = time.perf_counter()
        request = self.client.http.build_request(method, path, content=content, params=params, headers=sent, data=form)
        exchange = Exchange(method, path, request)
        try:
            response = self.client.http.send(request)
            exchange.status, exchange.text = response.status_code, response.text
        except httpx.HTTPError as error:
            exchange.error = f"{type(error).__name__}: {error}"
        exchange.seconds = time.perf_counter() - started
        self.log.append(exchange)
        if exchange.text:
            try:
                exchange.body = jsonio.loads(exchange.text)
            except Exception:  # the sandbox's MalformedBody, or anything else a broken body brings
                exchange.body = None
        if check:
            self.check(exchange)
        return exchange

    @staticmethod
    def check(exchange: Exchange) -> None:
        require(not exchange.error, "no-server-errors", f"{exchange.method} {exchange.path} got no answer ({exchange.error})", exchange)
        require(exchange.status < 500, "no-server-errors", f"{exchange.method} {exchange.path} was answered HTTP {exchange.status}", exchange)
        require(exchange.body is not None, "no-server-errors", f"{exchange.method} {exchange.path}: the body is not JSON", exchange)
        problem = shape_problem(exchange.method, exchange.path, exchange.status, exchange.body)
        if problem is not None:
            raise ContractViolation(problem[0], f"{exchange.method} {exchange.path} -> HTTP {exchange.status}: {problem[1]}", [exchange])


class Partner:
    """The partner's view of the target: reads, and writes with this run's identifiers."""

    def __init__(self, api: Api, ids: RunIds, magic: MagicTable) -> None:
        self.api = api
        self.target = api.target
        self.ids = ids
        self.magic = magic

    @property
    def scope(self) -> dict[str, str]:
        return {"companyId": self.target.company_id, "cardAccountId": self.target.account_id}

    def post(self, path: str, body: Any, params: Mapping[str, Any] | None = None, check: bool = True) -> Exchange:
        return self.api.call("POST", path if path.startswith("/") else f"{PARTNER}/{path}", body=body, params=params, check=check)

    # --- reads -------------------------------------------------------------------------------------
    def account(self) -> tuple[dict[str, Any], Exchange]:
        exchange = self.post("cardAccount/get", self.scope)
        if not exchange.ok:
            raise TargetProblem(f"cannot read account {self.target.account_id} of company {self.target.company_id}:\n{exchange.shown()}")
        return exchange.payload, exchange

    def paged(self, path: str, body: dict[str, Any], key: str) -> tuple[list[dict[str, Any]], int, list[Exchange]]:
        """Every row of a paged read (limit/offset), stopping when a page brings nothing new."""
        rows: dict[str, dict[str, Any]] = {}
        exchanges: list[Exchange] = []
        count = 0
        for page in range(10_000):
            exchange = self.post(path, body, params={"limit": PAGE, "offset": page * PAGE})
            exchanges.append(exchange)
            require(exchange.ok, "documented-shapes", f"{path} of the suite's own account was refused", exchange)
            data = exchange.payload.get("data", [])
            count = exchange.payload.get("recordsCount", len(data))
            before = len(rows)
            rows.update({str(row.get(key)): row for row in data})
            if len(rows) == before or len(data) < PAGE or len(rows) >= count:
                break
        return list(rows.values()), count, exchanges

    def cards(self) -> tuple[list[dict[str, Any]], list[Exchange]]:
        rows, _, exchanges = self.paged("search", self.scope, "enKashCardId")
        return rows, exchanges

    def card(self, card_id: str) -> tuple[dict[str, Any], Exchange]:
        """The suite's card, through search with enKashCardId (which must give exactly that card)."""
        exchange = self.post("search", dict(self.scope, enKashCardId=card_id))
        require(exchange.ok, "search-filter-enKashCardId", f"search for the suite's card {card_id} was refused", exchange)
        data = exchange.payload.get("data", [])
        require(len(data) == 1 and data[0].get("enKashCardId") == card_id, "search-filter-enKashCardId",
                f"search with enKashCardId {card_id} returned {len(data)} cards {[d.get('enKashCardId') for d in data[:5]]}", exchange)
        return data[0], exchange

    def balance_of(self, card_id: str) -> tuple[Decimal, Exchange]:
        row, exchange = self.card(card_id)
        return Decimal(str(row["otbBalance"])), exchange

    def transactions(self, **filters: Any) -> tuple[list[dict[str, Any]], int, Exchange]:
        exchange = self.post("transaction/all", dict(self.scope, **filters), params={"limit": PAGE})
        require(exchange.ok, "documented-shapes", "transaction/all of the suite's own account was refused", exchange)
        return exchange.payload.get("data", []), exchange.payload.get("recordsCount", 0), exchange

    # --- writes ------------------------------------------------------------------------------------
    def allocate(self, body: dict[str, Any], check: bool = True) -> Exchange:
        full = {**self.scope, "transactionCode": "ALLOCATION", **body}
        hits = self.magic.hits(full)
        assert not hits, f"the suite built a request with magic values {hits}: a suite bug"
        exchange = self.post(ALLOCATE, full, check=check)
        if exchange.ok:
            sent = full.get("uniqueReferenceNumber", full.get("uniqueReferenceNum"))
            echoed = exchange.payload.get("pgReferenceNumber")
            require(echoed == sent, "reference-echo", f"uniqueReferenceNumber {sent!r} came back as pgReferenceNumber {echoed!r}", exchange)
        return exchange

    def new_holder(self, amount: Decimal, reference: str | None = None) -> tuple[Exchange, dict[str, Any]]:
        holder = self.ids.holder()
        body = {"transactionType": "CR", "type": "ALLOCATE_POINT", "title": "Ms", "gender": "F", **holder,
                "loadAmount": self.magic.amount(amount), "uniqueReferenceNumber": reference or self.ids.reference("N")}
        return self.allocate(body), body

    def move(self, card_id: str, amount: Decimal, credit: bool, reference: str | None = None,
             aliases: bool = False) -> tuple[Exchange, dict[str, Any]]:
        body = {"enkashCardId" if aliases else "enKashCardId": card_id, "loadAmount": self.magic.amount(amount),
                "transactionType": "CR" if credit else "DR", "type": "ALLOCATE_POINT" if credit else "UNALLOCATE_POINT",
                "uniqueReferenceNum" if aliases else "uniqueReferenceNumber": reference or self.ids.reference("T" if credit else "D")}
        return self.allocate(body), body

    # --- redemption (a partner's token orders for a user it names in ekUserId) ------------------------
    def offer(self, product: str, denomination: int) -> tuple["Offer | None", Exchange]:
        """What `denomination` of `product` costs (its config whose mrp it is), from Get Product Configs;
        None when the target does not serve the product or that denomination."""
        exchange = self.api.call("GET", f"{SEARCH_CONFIG}/{product}", check=False)
        if exchange.status in (404, 405) or not exchange.ok or not isinstance(exchange.payload, dict):
            return None, exchange
        self.api.check(exchange)
        for config in exchange.payload.get("configResponses") or []:
            if Decimal(str(config.get("mrp"))) == denomination:
                return Offer(product, denomination, Decimal(str(config["sellRate"])), int(config.get("maxQuantity") or 1)), exchange
        return None, exchange

    def order(self, user: str, offer: "Offer", quantity: int, reference: str | None = None,
              check: bool = True) -> tuple[Exchange, dict[str, Any]]:
        body = {"denomination": offer.denomination, "ekUserId": user, "orderReferenceId": reference or self.ids.order_reference(),
                "productCatalogId": offer.product, "quantity": quantity}
        return self.place(body, check=check), body

    def place(self, body: dict[str, Any], check: bool = True) -> Exchange:
        hits = self.magic.hits(body)
        assert not hits, f"the suite built an order with magic values {hits}: a suite bug"
        return self.api.call("POST", ORDER, body=body, check=check)

    # --- coins (bearer only) --------------------------------------------------------------------------
    def coins_call(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Exchange:
        return self.api.call(method, path, body=body, params=params, auth="bearer")

    def coin_event(self, coins: int) -> tuple[Exchange, str]:
        event = self.ids.event()
        company = self.target.coins_company_id or self.target.company_id
        exchange = self.coins_call("POST", f"{COINS}/create-coins-config",
                                   {"companyId": company, "configuration": "CUSTOM", "event": event, "amount": coins})
        return exchange, event

    def allocate_coin(self, user: str, event: str, request_id: str) -> Exchange:
        company = self.target.coins_company_id or self.target.company_id
        return self.coins_call("POST", f"{COINS}/allocate-coin", {"companyId": company, "event": event, "requestId": request_id,
                                                                   "userId": user})

    def coin_balance(self, user: str) -> tuple[int, Exchange]:
        exchange = self.coins_call("GET", "/api/v0/coins/balance", params={"userId": user})
        require(exchange.ok, "documented-shapes", f"coins/balance of the suite's user {user} was refused", exchange)
        return int(exchange.payload), exchange


def sum_balances(cards: Iterable[dict[str, Any]]) -> Decimal:
    return sum((Decimal(str(c.get("otbBalance", 0))) for c in cards), Decimal(0))
