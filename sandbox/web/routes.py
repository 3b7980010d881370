"""THE route table. The HTTP adapter, the OpenAPI builder and the contract tests all read it.

`operation` names the schema files (schemas/<operation>.*.json) and the OpenAPI operationId.
`auth`: basic (OAuth client), partner (bearer + partnerId header), bearer, admin, none.
`envelope`: A ({code,message,payload}), B ({response_code,...}) or none (plain JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sandbox.web.endpoints import admin, coins, docs, faults, rewards, token

PARTNER = "/api/v0/partner/enKashCard"
COINS = "/api/v0/enkash-coins"


@dataclass(frozen=True, eq=False)  # a route is itself: hashed by identity, as the dispatcher's key
class Route:
    method: str
    path: str
    operation: str
    endpoint: Callable[..., Any]
    auth: str
    envelope: str
    body: str = "json"  # json | form | none
    summary: str = ""
    source: str = ""  # the EnKash docs page, or "sandbox" for the sandbox's own API


ROUTES: tuple[Route, ...] = (
    # --- Token APIs (docs/enkash-api.md#token-apis) ---
    Route("POST", "/oauth/token", "oauth-token", token.oauth_token, "basic", "none", "form",
          "Client authentication: password grant", "https://docs.enkash.com/api-9796904"),
    Route("POST", f"{PARTNER}/sso-token", "sso-token", token.sso_token, "partner", "B", "json",
          "Single sign-on token for a card holder", "https://docs.enkash.com/api-9796903"),
    # --- Reward and Incentive Allocation (docs/enkash-api.md#reward-allocation, #incentive-allocation) ---
    Route("POST", f"{PARTNER}/create-allocate-points", "create-allocate-points", rewards.create_allocate_points,
          "partner", "A", "json", "Create user and allocate, top up, or debit points", "https://docs.enkash.com/api-9796905"),
    Route("POST", f"{PARTNER}/points/allocate", "create-allocate-points", rewards.create_allocate_points,
          "partner", "A", "json", "Incentive allocation (the guide's path)", "https://docs.enkash.com/doc-1039496"),
    Route("POST", f"{PARTNER}/bulk-create-allocate-points-json", "bulk-create-allocate-points",
          rewards.bulk_create_allocate_points, "partner", "A", "json",
          "Bulk create users and allocate points", "https://docs.enkash.com/api-9796906"),
    Route("POST", f"{PARTNER}/cardAccount/get", "card-account-get", rewards.card_account_get, "partner", "B", "json",
          "Reward account details", "https://docs.enkash.com/api-9796909"),
    Route("POST", f"{PARTNER}/search", "search", rewards.search, "partner", "A", "json",
          "Users and cards of an account, or one card", "https://docs.enkash.com/api-13454278"),
    Route("POST", f"{PARTNER}/transaction/all", "transaction-all", rewards.transaction_all, "partner", "A", "json",
          "Card transactions with filters", "https://docs.enkash.com/api-13551023"),
    # --- Point Management: EnKash coins (docs/enkash-api.md#coins; bearer only, no partnerId header) ---
    Route("POST", f"{COINS}/create-coins-config", "coins-create-config", coins.create_coins_config, "bearer", "B", "json",
          "Create a coin event configuration", "https://docs.enkash.com/api-9796915"),
    Route("POST", f"{COINS}/allocate-coin", "coins-allocate", coins.allocate_coin, "bearer", "B", "json",
          "Credit a user the coins configured for an event", "https://docs.enkash.com/api-9796917"),
    Route("GET", f"{COINS}/{{coinConfigId}}", "coins-config-get", coins.coins_config_get, "bearer", "B", "none",
          "A coin event configuration", "https://docs.enkash.com/api-9796914"),
    Route("PATCH", f"{COINS}/{{coinConfigId}}", "coins-config-update", coins.coins_config_update, "bearer", "B", "json",
          "Update a coin event configuration (partial)", "https://docs.enkash.com/api-9796916"),
    Route("GET", "/api/v0/coins/balance", "coins-balance", coins.coins_balance, "bearer", "B", "none",
          "A user's coin balance", "https://docs.enkash.com/apidoc/project-616243/api-9796918"),
    # --- The sandbox's own API (never under EnKash paths) ---
    Route("GET", "/__sandbox/health", "sandbox-health", admin.health, "none", "none", "none",
          "Ready check", "sandbox"),
    Route("POST", "/__sandbox/reset", "sandbox-reset", admin.reset, "admin", "none", "none",
          "Back to the loaded fixtures (query: seed)", "sandbox"),
    Route("GET", "/__sandbox/clock", "sandbox-clock-get", admin.clock_get, "admin", "none", "none",
          "The sandbox clock", "sandbox"),
    Route("POST", "/__sandbox/clock", "sandbox-clock-set", admin.clock_set, "admin", "none", "json",
          "Set, advance, freeze or run the sandbox clock", "sandbox"),
    Route("POST", "/__sandbox/accounts/{cardAccountId}/load", "sandbox-account-load", admin.account_load,
          "admin", "none", "json", "Add funds to a card account", "sandbox"),
    Route("POST", "/__sandbox/cards/{enKashCardId}/redeem", "sandbox-card-redeem", admin.card_redeem,
          "admin", "none", "json", "Spend points from a card, as a purchase in the reward store would", "sandbox"),
    # fault injection (sandbox/faults/, README.md, "Fault injection")
    Route("GET", "/__sandbox/faults", "sandbox-faults-list", faults.faults_list, "admin", "none", "none",
          "Armed fault rules with their counts, the faults fired and the active scenario", "sandbox"),
    Route("POST", "/__sandbox/faults", "sandbox-faults-create", faults.faults_create, "admin", "none", "json",
          "Arm a fault rule (201 with its id)", "sandbox"),
    Route("DELETE", "/__sandbox/faults", "sandbox-faults-clear", faults.faults_clear, "admin", "none", "none",
          "Disarm every fault rule", "sandbox"),
    Route("DELETE", "/__sandbox/faults/{ruleId}", "sandbox-faults-delete", faults.faults_delete, "admin", "none", "none",
          "Disarm one fault rule", "sandbox"),
    Route("GET", "/__sandbox/scenarios", "sandbox-scenarios-list", faults.scenarios_list, "admin", "none", "none",
          "Fault scenarios in fixtures/scenarios/", "sandbox"),
    Route("POST", "/__sandbox/scenarios/{name}", "sandbox-scenarios-load", faults.scenario_load, "admin", "none", "none",
          "Arm a fault scenario, replacing the armed rules", "sandbox"),
    Route("POST", "/__sandbox/fixtures", "sandbox-fixtures-load", admin.fixtures_load, "admin", "none", "raw",
          "Add fixture records (YAML or JSON body) to the live state and to what reset rebuilds", "sandbox"),
    Route("DELETE", "/__sandbox/fixtures", "sandbox-fixtures-forget", admin.fixtures_forget, "admin", "none", "none",
          "Drop the fixtures loaded at run time and reset to the ones the sandbox started with", "sandbox"),
    Route("GET", "/__sandbox/state", "sandbox-state-get", admin.state_get, "admin", "none", "none",
          "The whole state as one document (restore it with PUT)", "sandbox"),
    Route("PUT", "/__sandbox/state", "sandbox-state-put", admin.state_put, "admin", "none", "json",
          "Replace the whole state by a document from GET /__sandbox/state", "sandbox"),
    Route("GET", "/__sandbox/journal", "sandbox-journal", admin.journal_list, "admin", "none", "none",
          "Recorded requests, newest first (query: path, status, reference, partner, method, limit)", "sandbox"),
    Route("GET", "/__sandbox/journal/count", "sandbox-journal-count", admin.journal_count, "admin", "none", "none",
          "How many recorded requests match the filters", "sandbox"),
    Route("DELETE", "/__sandbox/journal", "sandbox-journal-clear", admin.journal_clear, "admin", "none", "none",
          "Forget every recorded request", "sandbox"),
    Route("GET", "/__sandbox/openapi.json", "sandbox-openapi", docs.openapi_json, "none", "none", "none",
          "This sandbox's OpenAPI 3.1 document, built from its route table and schema files", "sandbox"),
    Route("GET", "/__sandbox/docs", "sandbox-docs", docs.docs_page, "none", "none", "none",
          "Human-readable API reference (offline HTML page)", "sandbox"),
    Route("GET", "/__sandbox/coins/{userId}", "sandbox-coins-get", coins.sandbox_coins_get, "admin", "none", "none",
          "A user's coins: balance, lots (earned, expires, remaining) and history", "sandbox"),
    Route("POST", "/__sandbox/coins/{userId}/spend", "sandbox-coins-spend", coins.sandbox_coins_spend, "admin", "none",
          "json", "Spend a user's coins, as a purchase would (soonest-expiring first)", "sandbox"),
    Route("GET", "/__sandbox/companies/{companyId}/coins", "sandbox-coins-settings-get", coins.sandbox_coins_settings_get,
          "admin", "none", "none", "A company's coin settings: ratio, validity, promotions", "sandbox"),
    Route("POST", "/__sandbox/companies/{companyId}/coins", "sandbox-coins-settings-set", coins.sandbox_coins_settings_set,
          "admin", "none", "json", "Change a company's coin settings (only the fields given)", "sandbox"),
)
