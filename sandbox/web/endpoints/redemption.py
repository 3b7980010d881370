"""Redemption endpoints, the voucher marketplace (docs/enkash-api.md RED-1..RED-9): fields in, payload out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.contract.envelope import SUCCESS, Reply
from sandbox.domain import redemption
from sandbox.domain.redemption import Holder, OrderQuery, OrderRequest
from sandbox.state.clock import iso
from sandbox.state.store import Cart, Order, Product, ProductConfig, Store
from sandbox.web.adapter import Call
from sandbox.web.endpoints.fields import amount, fingerprint, moment, optional_amount, paging

ORDER_FIELDS = ("denomination", "orderReferenceId", "productCatalogId", "quantity")


def money(value: Decimal) -> Decimal:
    """An amount as EnKash prints it: no trailing zeros, no exponent (490, 242.5)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _holder(call: Call) -> Holder:
    assert call.token is not None
    return redemption.holder_of(call.token)


# --- catalog -----------------------------------------------------------------------------------
def config_payload(config: ProductConfig) -> dict[str, Any]:
    return {
        "productConfigId": config.product_config_id,
        "mrp": money(config.mrp),
        "sellRate": money(config.sell_rate),
        "enkashDiscount": money(config.enkash_discount),
        "maxQuantity": config.max_quantity,
        "customAmountEnabled": config.custom_amount_enabled,
    }


def product_payload(product: Product) -> dict[str, Any]:
    """RED-5's fields, in the order the page lists them."""
    return {
        "productCatalogId": product.product_catalog_id,
        "brand": product.brand,
        "aggregator": product.aggregator,
        "category": product.category,
        "images": dict(product.images),
        "description": product.description,
        "configResponses": [config_payload(c) for c in product.configs],
        "enabled": product.enabled,
        "rank": product.rank,
        "termsAndCondition": product.terms_and_condition,
        "howToRedeem": product.how_to_redeem,
        "expiryPeriod": product.expiry_period,
        "active": product.active,
        "enkashImages": dict(product.enkash_images),
        "discount": money(product.discount),
    }


def product_configs(call: Call) -> dict[str, Any]:
    return product_payload(redemption.product_of(call.store, call.params["productCatalogId"]))


def catalog_search(call: Call) -> dict[str, Any]:
    body = call.body or {}
    offset, limit = paging(call.query)
    found = redemption.search_catalog(call.store, body.get("search") or "", body.get("category") or (), body.get("aggregator") or "")
    return {"recordsCount": len(found), "data": [product_payload(p) for p in found[offset: offset + limit]]}


# --- carts ------------------------------------------------------------------------------------
def cart_payload(store: Store, cart: Cart) -> dict[str, Any]:
    view = redemption.priced(store, cart)
    product = view.product
    return {
        "id": cart.cart_id,
        "ekUserId": cart.user_id,
        "productCatalogId": product.product_catalog_id,
        "name": product.brand,
        "logoUrl": product.images.get("LOGO_IMAGE", ""),
        "items": {
            item.config.product_config_id: {
                "productConfigId": item.config.product_config_id,
                "mrp": money(item.config.mrp),
                "sellRate": money(item.config.sell_rate),
                "enkashDiscount": money(item.config.enkash_discount),
                "savings": money(item.savings),
                "quantity": item.quantity,
                "total": money(item.total),
            }
            for item in view.items
        },
        "totalQuantity": view.total_quantity,
        "totalAmount": money(view.total_amount),
        "totalSavings": money(view.total_savings),
        "termsAndCondition": product.terms_and_condition,
        "productConfigs": [config_payload(c) for c in product.configs],
        "howToRedeem": product.how_to_redeem,
    }


def _changes(items: dict[str, Any]) -> dict[str, tuple[int, str | None]]:
    return {config_id: (int(item["quantity"]), item.get("description")) for config_id, item in items.items()}


def cart_get(call: Call) -> list[dict[str, Any]]:
    carts = redemption.visible_carts(call.store, _holder(call), call.query.get("ekUserId"))
    return [cart_payload(call.store, cart) for cart in carts]


def cart_add(call: Call) -> dict[str, Any]:
    body = call.body
    cart = redemption.add_to_cart(call.store, _holder(call), body.get("ekUserId"), body["productCatalogId"], _changes(body["items"]))
    return cart_payload(call.store, cart)


def cart_update(call: Call) -> dict[str, Any]:
    cart = redemption.update_cart(call.store, _holder(call), int(call.body["cartId"]), _changes(call.body["items"]))
    return cart_payload(call.store, cart)


# --- orders -----------------------------------------------------------------------------------
def order_payload(order: Order, store: Store) -> dict[str, Any]:
    delivered = order.status == redemption.SUCCESS
    return {
        "orderId": order.order_id,
        "orderReferenceId": order.reference,
        "paymentStatus": order.payment_status,
        "orderStatus": order.status,
        "totalQuantity": order.quantity,
        "ekUserId": order.user_id,
        "enKashCardId": order.card_id,
        "productCatalogId": order.product_catalog_id,
        "productConfigId": order.product_config_id,
        "brand": store.products[order.product_catalog_id].brand,
        "denomination": money(order.denomination),
        "sellRate": money(order.sell_rate),
        "enkashDiscount": money(order.enkash_discount),
        "totalAmount": money(order.amount),
        "enkashCardTxnId": order.posting_id,
        "refundCardTxnId": order.refund_posting_id or None,
        "createdOn": iso(order.created_at),
        "expectedOn": iso(order.due_at) if order.due_at is not None and not order.completed_at else None,
        "completedOn": iso(order.completed_at) if order.completed_at else None,
        "vouchers": [
            {"voucherCode": v.code, "voucherPin": v.pin, "denomination": money(order.denomination), "expiryDate": iso(v.expires_at)}
            for v in order.vouchers
        ] if delivered else [],
    }


def create_order(call: Call) -> dict[str, Any]:
    body, holder = call.body, _holder(call)
    user = holder.user_id or body.get("ekUserId") or ""
    request = OrderRequest(
        ek_user_id=body.get("ekUserId"),
        denomination=amount(body["denomination"]),
        reference=body["orderReferenceId"],
        product_catalog_id=body["productCatalogId"],
        quantity=int(body["quantity"]),
        fingerprint=fingerprint({name: body[name] for name in ORDER_FIELDS}, {"ekUserId": user}),
        outcome=_outcome(call),
    )
    return order_payload(redemption.create_order(call.store, holder, request), call.store)


def _outcome(call: Call) -> tuple[str, int] | None:
    """An order's outcome chosen by a fault (`order=pending; seconds=N` or `order=failed`: header,
    rule, scenario or magic value) instead of the product's `fulfilment`."""
    fault = call.outcome
    if fault is None:
        return None
    return fault.value.upper(), fault.number("seconds", 0)


def search_order(call: Call) -> dict[str, Any]:
    body = call.body
    offset, limit = paging(call.query)
    query = OrderQuery(
        ek_user_id=body.get("ekUserId"),
        company_id=body.get("companyId"),
        email=body.get("email"),
        aggregator=body.get("aggregator"),
        aggregator_order_id=body.get("aggregatorOrderId"),
        aggregator_product_id=body.get("aggregatorProductId"),
        brands=tuple(body.get("brand") or ()),
        categories=tuple(body.get("category") or ()),
        amount_from=optional_amount(body.get("amountFrom")),
        amount_to=optional_amount(body.get("amountTo")),
        enkash_discount_from=optional_amount(body.get("enkashDiscountFrom")),
        enkash_discount_to=optional_amount(body.get("enkashDiscountTo")),
        aggregator_discount_from=optional_amount(body.get("aggregatorDiscountFrom")),
        aggregator_discount_to=optional_amount(body.get("aggregatorDiscountTo")),
        created_from=moment(body.get("createdOnFrom"), "createdOnFrom"),
        created_to=moment(body.get("createdOnTo"), "createdOnTo"),
        newest_first=body.get("direction") != "ASC",
    )
    total, page = redemption.search_orders(call.store, _holder(call), query, offset, limit)
    return {"recordsCount": total, "data": [order_payload(order, call.store) for order in page]}


def order_details(call: Call) -> Reply:
    """RED-8, POST with {"orderId"} or GET with the reference in the path. The docs' example
    spells the payload key `paylod`; --order-details-key payload spells it right."""
    key = call.body["orderId"] if call.body is not None else call.params["orderReferenceId"]
    order = redemption.find_order(call.store, _holder(call), key)
    return Reply({call.settings.order_details_key: order_payload(order, call.store), "response_code": 0, "response_message": SUCCESS})


# --- the sandbox's own API ----------------------------------------------------------------------
def sandbox_order_complete(call: Call) -> Reply:
    order = redemption.complete(call.store, call.params["orderId"], call.body["orderStatus"])
    return Reply(order_payload(order, call.store))
