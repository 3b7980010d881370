"""THE route table. The HTTP adapter, the OpenAPI builder and the contract tests all read it.

`operation` names the schema files (schemas/<operation>.*.json) and the OpenAPI operationId.
`auth`: basic (OAuth client), partner (bearer + partnerId header), bearer, user (bearer: a partner's,
a card holder's or an SSO token; the marketplace), admin, none, or ui (the admin token as a bearer
header or the inspector's cookie, checked by sandbox/web/inspector/pages.py).
`envelope`: A ({code,message,payload}), B ({response_code,...}), none (plain JSON) or html (a page of
the inspector for a person: not part of the API, so not in the OpenAPI document).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sandbox.web.endpoints import admin, coins, docs, faults, redemption, rewards, token
from sandbox.web.inspector import actions as ui_do, views as ui

UI = "/__sandbox/ui"
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
    limit: str = "call"  # body limit (Settings.body_limit): call (one record), upload (many), state (a dump)


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
          "Bulk create users and allocate points", "https://docs.enkash.com/api-9796906", limit="upload"),
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
    # --- Redemption: the voucher marketplace (docs/enkash-api.md RED-1..RED-9; bearer only, no partnerId header) ---
    Route("GET", "/api/v0/cart", "cart-get", redemption.cart_get, "user", "B", "none",
          "The user's carts (query product=VOUCHER)", "https://docs.enkash.com/api-9796919"),
    Route("POST", "/api/v0/cart", "cart-add", redemption.cart_add, "user", "B", "json",
          "Add to cart: quantities added to the user's cart for the product", "https://docs.enkash.com/api-9796920"),
    Route("PATCH", "/api/v0/cart", "cart-update", redemption.cart_update, "user", "B", "json",
          "Update Cart: set quantities (0 removes)", "https://docs.enkash.com/project-616243/api-9796921"),
    Route("POST", "/api/v0/bolt/searchProducts", "catalog-search", redemption.catalog_search, "none", "B", "json",
          "Search Catalog (the path EnKash's own site calls; the docs' path is not captured)",
          "https://github.com/ravindra-moonstack/enkash-uat"),
    Route("GET", "/api/v0/partner/product-details/{productCatalogId}", "product-details", redemption.product_configs,
          "user", "B", "none", "Product Details (path not captured: the sandbox's reading)", "https://docs.enkash.com/api-9796927"),
    Route("GET", "/api/v0/partner/search-config/{productCatalogId}", "product-configs", redemption.product_configs,
          "user", "B", "none", "Get Product Configs: the product and its denominations", "https://docs.enkash.com/api-9796927"),
    Route("POST", "/api/v0/partner/create-order", "create-order", redemption.create_order, "user", "B", "json",
          "Create Order, paid from the user's reward card", "https://docs.enkash.com/api-9796924"),
    Route("POST", "/api/v0/partner/search-order", "search-order", redemption.search_order, "user", "B", "json",
          "Order Search (query limit, offset)", "https://docs.enkash.com/apidoc/project-616243/api-9796922"),
    Route("POST", "/api/v0/order/orderDetails", "order-details", redemption.order_details, "user", "none", "json",
          "Fetch Order Info by the partner's order reference (key paylod, sic)", "https://docs.enkash.com/api-13454287"),
    Route("GET", "/api/v0/partner/fetch-order-details/{orderReferenceId}", "order-details", redemption.order_details,
          "user", "none", "none", "Fetch Order Info (the newer page's GET)", "https://docs.enkash.com/api-13454287"),
    Route("POST", "/__sandbox/orders/{orderId}/complete", "sandbox-order-complete", redemption.sandbox_order_complete,
          "admin", "none", "json", "Complete a pending order now: SUCCESS, or FAILED with a refund", "sandbox"),
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
          "Add fixture records (YAML or JSON body) to the live state and to what reset rebuilds", "sandbox", limit="upload"),
    Route("DELETE", "/__sandbox/fixtures", "sandbox-fixtures-forget", admin.fixtures_forget, "admin", "none", "none",
          "Drop the fixtures loaded at run time and reset to the ones the sandbox started with", "sandbox"),
    Route("GET", "/__sandbox/state", "sandbox-state-get", admin.state_get, "admin", "none", "none",
          "The whole state as one document (restore it with PUT)", "sandbox"),
    Route("PUT", "/__sandbox/state", "sandbox-state-put", admin.state_put, "admin", "none", "json",
          "Replace the whole state by a document from GET /__sandbox/state", "sandbox", limit="state"),
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
    # --- the inspector: pages for a person (README.md, "Inspector"); forms POST, with the admin token ---
    Route("GET", UI, "sandbox-ui", ui.overview, "ui", "html", "none", "Inspector: partners, companies, accounts, counters", "sandbox"),
    Route("GET", f"{UI}/login", "sandbox-ui-login", ui.login_form, "none", "html", "none", "Inspector: sign in with the admin token", "sandbox"),
    Route("POST", f"{UI}/login", "sandbox-ui-login-submit", ui_do.login, "none", "html", "form", "Inspector: set the admin token cookie", "sandbox"),
    Route("POST", f"{UI}/logout", "sandbox-ui-logout", ui_do.logout, "none", "html", "none", "Inspector: forget the cookie", "sandbox"),
    Route("GET", f"{UI}/static/{{name}}", "sandbox-ui-static", ui.static, "none", "html", "none", "Inspector: its CSS and script", "sandbox"),
    Route("GET", f"{UI}/find", "sandbox-ui-find", ui.find, "ui", "html", "none", "Inspector: the page of any id", "sandbox"),
    Route("GET", f"{UI}/accounts/{{cardAccountId}}", "sandbox-ui-account", ui.account, "ui", "html", "none", "Inspector: an account, its cards and ledger", "sandbox"),
    Route("GET", f"{UI}/cards/{{enKashCardId}}", "sandbox-ui-card", ui.card, "ui", "html", "none", "Inspector: a card and its ledger", "sandbox"),
    Route("GET", f"{UI}/companies/{{companyId}}", "sandbox-ui-company", ui.company, "ui", "html", "none", "Inspector: a company's coins and users", "sandbox"),
    Route("GET", f"{UI}/users/{{userId}}", "sandbox-ui-user", ui.user, "ui", "html", "none", "Inspector: a user's coin lots and ledger", "sandbox"),
    Route("GET", f"{UI}/orders", "sandbox-ui-orders", ui.orders, "ui", "html", "none", "Inspector: redemption orders", "sandbox"),
    Route("GET", f"{UI}/journal", "sandbox-ui-journal", ui.journal, "ui", "html", "none", "Inspector: the request journal", "sandbox"),
    Route("GET", f"{UI}/journal/{{seq}}", "sandbox-ui-entry", ui.entry, "ui", "html", "none", "Inspector: one request", "sandbox"),
    Route("POST", f"{UI}/journal/clear", "sandbox-ui-journal-clear", ui_do.journal_clear, "ui", "html", "form", "Inspector: clear the journal", "sandbox"),
    Route("GET", f"{UI}/faults", "sandbox-ui-faults", ui.faults_page, "ui", "html", "none", "Inspector: armed rules, scenarios", "sandbox"),
    Route("POST", f"{UI}/faults", "sandbox-ui-fault-arm", ui_do.fault_arm, "ui", "html", "form", "Inspector: arm a rule", "sandbox"),
    Route("POST", f"{UI}/faults/clear", "sandbox-ui-faults-clear", ui_do.faults_clear, "ui", "html", "form", "Inspector: disarm every rule", "sandbox"),
    Route("POST", f"{UI}/faults/{{ruleId}}/disarm", "sandbox-ui-fault-disarm", ui_do.fault_disarm, "ui", "html", "form", "Inspector: disarm a rule", "sandbox"),
    Route("POST", f"{UI}/scenarios/{{name}}", "sandbox-ui-scenario-arm", ui_do.scenario_arm, "ui", "html", "form", "Inspector: arm a scenario", "sandbox"),
    Route("GET", f"{UI}/control", "sandbox-ui-control", ui.control, "ui", "html", "none", "Inspector: clock, reset, state", "sandbox"),
    Route("POST", f"{UI}/clock", "sandbox-ui-clock", ui_do.clock, "ui", "html", "form", "Inspector: freeze, run, set or advance the clock", "sandbox"),
    Route("POST", f"{UI}/reset", "sandbox-ui-reset", ui_do.reset, "ui", "html", "form", "Inspector: reset", "sandbox"),
    Route("GET", f"{UI}/state", "sandbox-ui-state", ui.state_download, "ui", "html", "none", "Inspector: download the state document", "sandbox"),
    Route("POST", f"{UI}/state", "sandbox-ui-state-upload", ui_do.state_upload, "ui", "html", "raw", "Inspector: upload a state document", "sandbox",
          limit="state"),
)
