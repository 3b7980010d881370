"""Every failure the sandbox answers with, as one class each; the only place messages live.

`status` is the HTTP status; business failures are HTTP 200 with code 1 (docs/enkash-api.md#envelopes, #statuses).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping


class SandboxError(Exception):
    status: int = 422
    code: int = 1
    message: str = "Request could not be processed"
    headers: Mapping[str, str] = MappingProxyType({})  # its own response headers (an injected 429's Retry-After)

    def __init__(self, message: str | None = None, status: int | None = None, **details: object) -> None:
        self.message = message or self.message.format(**details)
        if status is not None:
            self.status = status
        self.details = details
        super().__init__(self.message)


# --- transport and request shape -------------------------------------------------------------
class MalformedBody(SandboxError):
    status, message = 400, "Malformed JSON request body: {reason}"


class MissingField(SandboxError):
    status, message = 400, "{field} is required"


class InvalidField(SandboxError):
    status, message = 422, "{field} {problem}"


class UnsupportedMediaType(SandboxError):
    status, message = 415, "Content-Type must be {expected}"


class BodyTooLarge(SandboxError):
    status, message = 413, "Request body is larger than {limit} bytes"


class RouteNotFound(SandboxError):
    status, message = 404, "No API at {path}"


class RouteOutOfScope(RouteNotFound):
    # a path EnKash serves but the sandbox does not (sandbox/web/out-of-scope.yaml)
    message = "{method} {path} is EnKash's {name} ({source}), which this sandbox does not emulate"


class MethodNotAllowed(SandboxError):
    status, message = 405, "Method {method} is not allowed on {path}"


# --- authentication ------------------------------------------------------------------------
class Unauthorized(SandboxError):
    status, message = 401, "Full authentication is required to access this resource"


class InvalidToken(SandboxError):
    status, message = 401, "Invalid access token"


class TokenExpired(SandboxError):
    status, message = 401, "Access token expired"


class PartnerHeaderMissing(SandboxError):
    status, message = 400, "partnerId header is required"


class PartnerMismatch(SandboxError):
    status, message = 403, "partnerId does not match the access token"


class AdminTokenRequired(SandboxError):
    status, message = 401, "This sandbox needs its admin token for /__sandbox/ calls"


# --- OAuth token endpoint (plain OAuth error bodies, docs/enkash-api.md#auth-1) ------------------------
class OAuthError(SandboxError):
    status, error = 400, "invalid_request"


class InvalidClient(OAuthError):
    status, error, message = 401, "invalid_client", "Bad client credentials"


class InvalidGrant(OAuthError):
    status, error, message = 400, "invalid_grant", "Bad credentials"


class UserLocked(OAuthError):
    status, error, message = 400, "invalid_grant", "User account is locked"


class UnsupportedGrant(OAuthError):
    status, error, message = 400, "unsupported_grant_type", "Unsupported grant type: {grant}"


class InvalidRefreshToken(OAuthError):  # Spring's DefaultTokenServices texts
    status, error, message = 400, "invalid_grant", "Invalid refresh token: {value}"


class RefreshTokenExpired(OAuthError):
    status, error, message = 401, "invalid_token", "Invalid refresh token (expired): {value}"


class OAuthBadRequest(OAuthError):
    status, error, message = 400, "invalid_request", "{reason}"


# --- entities ------------------------------------------------------------------------------
class CardAccountNotFound(SandboxError):
    # Bulk page's documented 404 text (docs/enkash-api.md#rwd-2); used for every account lookup.
    status, message = 404, "Card account not found for companyId: {company_id} and cardAccountId: {card_account_id}"


class CompanyNotFound(SandboxError):
    status, message = 404, "Company not found for companyId: {company_id}"


class CardNotFound(SandboxError):
    status, message = 404, "EnKash card not found for enKashCardId: {card_id}"


class CardHolderNotFound(SandboxError):
    status, message = 404, "No card in cardAccountId: {card_account_id} for the given mobile/email"


class UserNotFound(SandboxError):
    status, message = 404, "User not found for userId: {user_id}"


class ContactMismatch(SandboxError):
    status, message = 422, "{field} does not match the card holder of enKashCardId: {card_id}"


class ContactConflict(SandboxError):
    status, message = 422, "mobile and email belong to different card holders in this card account"


class TypeMismatch(SandboxError):
    status, message = 422, "transactionType {transaction_type} cannot be used with type {type}"


class CardInactive(SandboxError):
    status, code, message = 200, 1, "EnKash card is not active"


# --- business failures (HTTP 200, code 1) ---------------------------------------------------
class InsufficientBalance(SandboxError):
    status, code, message = 200, 1, "Insufficient balance in card account"


class DuplicateReference(SandboxError):
    status, code, message = 200, 1, "Duplicate uniqueReferenceNumber {reference}: it was already used for a different request"


class ReferenceReused(SandboxError):  # duplicate_reference=refuse: every repeat, even of the same request
    status, code, message = 200, 1, "Duplicate uniqueReferenceNumber {reference}: it was already used"


# --- bulk upload (documented 422s, docs/enkash-api.md#rwd-2) -----------------------------------------
class PrimaryCardMissing(SandboxError):
    status, message = 422, "Primary Enkash card is not present. So bulk upload cannot be done"


class PrimaryCardKycPending(SandboxError):
    status, message = 422, "KYC is not uploaded or under review for the primary card. So bulk upload cannot be done"


class CompanyIdRequired(SandboxError):
    status, message = 422, "Company Id is required if it is an Enkash User"


class BinTypeNotMapped(SandboxError):
    status, message = 422, "Bin Type is not mapped on PlanMaster"


class ForeignCardAccount(SandboxError):
    status, message = 422, "Card Account does not exist for this partner"


class TooManyRows(SandboxError):
    status, message = 413, "Bulk upload accepts at most {limit} rows"


# --- sandbox-only operations ----------------------------------------------------------------
class SandboxRequestInvalid(SandboxError):
    status, message = 400, "{reason}"


# --- Point Management: EnKash coins (docs/enkash-api.md#coins) -----------------------------------------
class CoinConfigNotFound(SandboxError):
    status, message = 404, "Coin configuration not found for coinConfigId: {coin_config_id}"


class CoinConfigExists(SandboxError):
    status, message = 422, "A coin configuration for event {event} already exists in companyId {company_id}: {coin_config_id}"


class CoinEventNotConfigured(SandboxError):
    status, message = 404, "No coin configuration for event {event} in companyId: {company_id}"


class UserNotInCompany(SandboxError):
    status, message = 422, "userId {user_id} does not belong to companyId: {company_id}"


class DuplicateRequestId(SandboxError):
    status, code, message = 200, 1, "Duplicate requestId {request_id}: it was already used for a different request"


class RequestIdReused(SandboxError):  # duplicate_reference=refuse
    status, code, message = 200, 1, "Duplicate requestId {request_id}: it was already used"


class InsufficientCoins(SandboxError):
    status, message = 422, "Insufficient coins: userId {user_id} has {balance}, the spend needs {coins}"


# --- encrypted payload mode (docs/enkash-api.md#encryption: the Payouts error list, assumed for Rewards) -----
class PayloadEncryptionError(SandboxError):
    """Base of the three documented encryption failures; details["reason"] says what was wrong."""


class EncryptedRequestInvalid(PayloadEncryptionError):
    status, message = 422, "Invalid encrypted request."


class RequestFormatInvalid(PayloadEncryptionError):
    status, message = 422, "Invalid request format."


class ResponseEncryptionFailed(PayloadEncryptionError):
    status, message = 403, "Encryption failed for response."


# --- fault injection (sandbox/faults/, README.md, "Fault injection") ----------------------
INJECTED_MESSAGES = {
    400: "Bad Request", 401: "Full authentication is required to access this resource", 403: "Access is denied",
    404: "Not Found", 422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


class InjectedError(SandboxError):
    """An HTTP error asked for through the fault engine; its status is the one asked for."""

    def __init__(self, status: int, message: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message or INJECTED_MESSAGES[status])
        self.status = status
        if headers:
            self.headers = headers


class InjectedBusinessFailure(SandboxError):
    status, code, message = 200, 1, "{reason}"


class KycPending(SandboxError):
    status, code, message = 200, 1, "KYC is pending for the card holder"


class RateLimited(SandboxError):
    status, message = 429, "Too many requests: at most {rps} per second for {who}"


class FaultStopped(SandboxError):
    # The request was stopped by a transport fault before it committed; this body never reaches the wire.
    status, message = 503, "Request stopped by an injected fault"


class FaultSpecInvalid(SandboxError):
    status, message = 400, "{where}: {problem}"


class FaultRuleNotFound(SandboxError):
    status, message = 404, "No fault rule with id {rule_id}"


class ScenarioNotFound(SandboxError):
    status, message = 404, "No fault scenario named {name} (known: {known})"


# --- operator surface: fixtures at run time, state snapshots (the sandbox's own API) -----------
class FixturesUnreadable(SandboxError):
    status, message = 400, "Fixtures are not valid YAML or JSON: {reason}"


class FixturesRejected(SandboxError):
    status, message = 422, "Fixtures rejected at {where}: {problem}"


class StateRejected(SandboxError):
    status, message = 422, "State document rejected at {where}: {problem}"


# --- limits of the server itself (README.md, "Limits") -------------------------------------------
class HeadersTooLarge(SandboxError):
    status, message = 431, "Request headers are larger than {limit} bytes"


class RequestTimeout(SandboxError):
    status, message = 408, "The request's {part} did not arrive within {seconds:g} s"
    headers = MappingProxyType({"Connection": "close"})


class PlaceTaken(SandboxError):
    """A connection still sending its head (or nothing) when every place was taken: its place went
    to a newer one (sandbox/tools/http11.py), however young it was."""

    status, message = 408, "The request's line and headers were still arriving when every connection place was taken: its place went to a newer connection"
    headers = MappingProxyType({"Connection": "close"})


class MalformedRequest(SandboxError):
    status, message = 400, "Malformed HTTP request: {reason}"


class TooManyConnections(SandboxError):
    status, message = 503, "Too many open connections (at most {limit}): try again shortly"
    headers = MappingProxyType({"Retry-After": "1", "Connection": "close"})


class LimitReached(SandboxError):
    status, message = 422, "At most {limit} {what}"


# --- Redemption: the marketplace (docs/enkash-api.md RED-1..RED-9); messages are the sandbox's own --------
class HolderTokenRefused(SandboxError):
    status, message = 403, "Access is denied: a card holder's token cannot call partner APIs"


class HolderRequired(SandboxError):
    # a partner's token names the user it acts for; a card holder's token is that user
    status, message = 400, "ekUserId is required: the access token is the partner's, not a card holder's"


class ProductNotFound(SandboxError):
    status, message = 404, "Product not found for productCatalogId: {product_catalog_id}"


class ProductUnavailable(SandboxError):
    status, message = 422, "Product {product_catalog_id} is not available (disabled or inactive)"


class ProductConfigNotFound(SandboxError):
    status, message = 404, "Product config {product_config_id} not found in productCatalogId: {product_catalog_id}"


class DenominationNotOffered(SandboxError):
    status, message = 422, "Denomination {denomination} is not offered for productCatalogId: {product_catalog_id}"


class QuantityAboveMax(SandboxError):
    status, message = 422, "quantity {quantity} is above maxQuantity {max_quantity} of productConfigId: {product_config_id}"


class CartNotFound(SandboxError):
    status, message = 404, "Cart not found for cartId: {cart_id}"


class OrderNotFound(SandboxError):
    status, message = 404, "Order not found for orderId: {order_id}"


class NoRewardCard(SandboxError):
    status, message = 404, "No reward card for ekUserId: {user_id}"


class DuplicateOrderReference(SandboxError):
    status, code, message = 200, 1, "Duplicate orderReferenceId {reference}: it was already used for a different request"


class OrderNotPending(SandboxError):
    status, message = 422, "Order {order_id} is {order_status}, not PENDING: only a pending order can be completed"
