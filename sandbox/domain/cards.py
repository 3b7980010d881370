"""Users and their reward cards: creation and the card's public face (masked number, token)."""

from __future__ import annotations

from sandbox.state.store import Card, Store, User


def masked_number(mobile: str) -> str:
    """Reward cards show 12 X's and the last four digits, which match the holder's mobile
    in the one documented example (docs/enkash-api.md#values, inference from one data point)."""
    return "XXXX XXXX XXXX " + (mobile[-4:] if len(mobile) >= 4 else mobile.rjust(4, "0"))


def issue(store: Store, user: User, card_account_id: str, card_id: str | None = None, token: str | None = None) -> Card:
    card = Card(
        card_id or store.new_id("card"),
        user.user_id,
        card_account_id,
        token or store.new_id("card_token"),
        masked_number(user.mobile),
    )
    store.add_card(card)
    return card


def create_user(store: Store, company_id: str, email: str, mobile: str, title: str, first_name: str, gender: str) -> User:
    user = User(store.new_id("user"), company_id, email, mobile, title, first_name, gender)
    store.add_user(user)
    return user
