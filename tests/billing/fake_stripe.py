"""Stripe's API, faked at the HTTP layer (the edge of the machine).

stripe 15 talks to ``https://api.stripe.com`` through ``requests``; the
``responses`` library answers those calls from an in-memory store of Stripe
objects shaped as the API (version 2026-05-27.dahlia) returns them. Creating
objects (customers, Checkout and portal sessions, products, prices, coupons)
stores them, retrieving serves them, lists filter them, and anything unknown
is a 404 ``resource_missing``, as Stripe answers. Webhook events are built
from the stored objects and signed with the endpoint's secret, so the site's
real webhook endpoint verifies them exactly as it would Stripe's.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from urllib.parse import parse_qsl, urlparse

import responses
import stripe

API = "https://api.stripe.com"
_counter = itertools.count(1)
# Unique across processes too (a benchmark reusing a database).
_RUN = uuid.uuid4().hex[:6]

# Collection path -> object type, for creates and lists.
COLLECTIONS = {
    "customers": "customer",
    "checkout/sessions": "checkout.session",
    "billing_portal/sessions": "billing_portal.session",
    "products": "product",
    "prices": "price",
    "coupons": "coupon",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "charges": "charge",
    "payment_intents": "payment_intent",
    "refunds": "refund",
    "events": "event",
}
PREFIXES = {
    "customer": "cus",
    "checkout.session": "cs_test",
    "billing_portal.session": "bps",
    "product": "prod",
    "price": "price",
    "coupon": "coupon",
    "subscription": "sub",
    "invoice": "in",
    "charge": "ch",
    "payment_intent": "pi",
    "refund": "re",
    "event": "evt",
}


def new_id(kind: str) -> str:
    return f"{PREFIXES.get(kind, 'obj')}_{_RUN}{next(_counter):06d}"


def _set_path(target: dict, keys: list[str], value) -> None:
    """``a[b][0][c]=v`` as nested dicts; lists come back from ``_listify``."""
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


def _listify(value):
    if isinstance(value, dict):
        value = {k: _listify(v) for k, v in value.items()}
        if value and all(k.isdigit() for k in value):
            return [value[k] for k in sorted(value, key=int)]
    return value


def decode_form(body: str) -> dict:
    """Stripe's form encoding (``metadata[user]=1&line_items[0][price]=p``)."""
    out: dict = {}
    for key, value in parse_qsl(body or "", keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        if key.endswith("[]"):
            target = out
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target.setdefault(parts[-1], []).append(value)
            continue
        _set_path(out, parts, value)
    return _listify(out)


class FakeStripe:
    """The store and the ``responses`` callbacks. ``requests`` lists every
    call made, as ``(method, path)``."""

    def __init__(self, rsps: responses.RequestsMock, *, account_id="acct_FAKE"):
        self.objects: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        # Paths that answer 500, as Stripe does when it has a bad moment.
        self.failing: set[str] = set()
        self.account = {
            "id": account_id,
            "object": "account",
            "business_profile": {"name": "Agentry test"},
            "charges_enabled": True,
            "country": "US",
            "default_currency": "usd",
            "email": "billing@example.com",
            "settings": {"dashboard": {"display_name": "Agentry"}},
            "type": "standard",
            "created": int(time.time()),
            "livemode": False,
            "metadata": {},
        }
        pattern = re.compile(re.escape(API) + r"/v1/.*")
        for method in (responses.GET, responses.POST, responses.DELETE):
            rsps.add_callback(method, pattern, callback=self._handle)

    # --- objects ------------------------------------------------------
    def put(self, obj: dict) -> dict:
        obj.setdefault("livemode", False)
        obj.setdefault("metadata", {})
        obj.setdefault("created", int(time.time()))
        self.objects[obj["id"]] = obj
        return obj

    def customer(self, *, user=None, email="buyer@example.com", id=None) -> dict:
        metadata = {"djstripe_subscriber": str(user.pk)} if user else {}
        return self.put(
            {
                "id": id or new_id("customer"),
                "object": "customer",
                "email": getattr(user, "email", email) or email,
                "name": None,
                "balance": 0,
                "currency": "usd",
                "delinquent": False,
                "default_source": None,
                "invoice_settings": {"default_payment_method": None},
                "metadata": metadata,
            }
        )

    def product(self, *, name: str, metadata: dict) -> dict:
        return self.put(
            {
                "id": new_id("product"),
                "object": "product",
                "name": name,
                "active": True,
                "type": "service",
                "description": None,
                "metadata": metadata,
            }
        )

    def price(self, *, product: str, unit_amount: int, lookup_key: str, interval=None):
        return self.put(
            {
                "id": new_id("price"),
                "object": "price",
                "active": True,
                "currency": "usd",
                "unit_amount": unit_amount,
                "unit_amount_decimal": str(unit_amount),
                "product": product,
                "lookup_key": lookup_key,
                "nickname": None,
                "billing_scheme": "per_unit",
                "tax_behavior": "unspecified",
                "type": "recurring" if interval else "one_time",
                "recurring": (
                    {
                        "interval": interval,
                        "interval_count": 1,
                        "usage_type": "licensed",
                    }
                    if interval
                    else None
                ),
                "metadata": {},
            }
        )

    def payment_intent(self, *, customer: str, amount: int) -> dict:
        return self.put(
            {
                "id": new_id("payment_intent"),
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount,
                "currency": "usd",
                "customer": customer,
                "status": "succeeded",
                "payment_method_types": ["card"],
                "capture_method": "automatic",
                "confirmation_method": "automatic",
                "latest_charge": None,
            }
        )

    def charge(self, *, customer: str, payment_intent: str, amount: int) -> dict:
        charge = self.put(
            {
                "id": new_id("charge"),
                "object": "charge",
                "amount": amount,
                "amount_captured": amount,
                "amount_refunded": 0,
                "captured": True,
                "currency": "usd",
                "customer": customer,
                "payment_intent": payment_intent,
                "paid": True,
                "refunded": False,
                "status": "succeeded",
                "disputed": False,
                "balance_transaction": None,
                "payment_method": None,
                "payment_method_details": None,
                "invoice": None,
                "description": None,
                "statement_descriptor": None,
                "failure_code": None,
                "failure_message": None,
                "fraud_details": {},
                "outcome": None,
                "receipt_email": None,
                "receipt_number": None,
                "refunds": {"object": "list", "data": [], "has_more": False},
            }
        )
        self.objects[payment_intent]["latest_charge"] = charge["id"]
        return charge

    def refund(self, charge_id: str, amount: int | None = None) -> dict:
        """Refund ``amount`` (all that is left by default) of a charge."""
        charge = self.objects[charge_id]
        left = charge["amount"] - charge["amount_refunded"]
        amount = left if amount is None else amount
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        return charge

    def checkout_completed(
        self, session_id: str, *, payment_status: str = "paid", subscription=None
    ) -> dict:
        """The Checkout Session as Stripe has it once the buyer paid (or,
        ``payment_status="unpaid"``, once an async payment started)."""
        session = self.objects[session_id]
        session["status"] = "complete"
        session["payment_status"] = payment_status
        if session["mode"] == "payment":
            intent = self.payment_intent(
                customer=session["customer"], amount=session["amount_total"]
            )
            session["payment_intent"] = intent["id"]
            if payment_status == "paid":
                self.charge(
                    customer=session["customer"],
                    payment_intent=intent["id"],
                    amount=session["amount_total"],
                )
        elif subscription is not None:
            session["subscription"] = subscription["id"]
        return session

    def subscription(
        self, *, customer: str, price_id: str, status: str = "active", metadata=None
    ) -> dict:
        price = self.objects[price_id]
        now = int(time.time())
        sub_id = new_id("subscription")
        period = 365 * 86400 if price["recurring"]["interval"] == "year" else 30 * 86400
        item = {
            "id": f"si_{sub_id}",
            "object": "subscription_item",
            "price": price,
            "quantity": 1,
            "subscription": sub_id,
            "created": now,
            "metadata": {},
            "current_period_start": now,
            "current_period_end": now + period,
        }
        return self.put(
            {
                "id": sub_id,
                "object": "subscription",
                "customer": customer,
                "status": status,
                "billing_cycle_anchor": now,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "collection_method": "charge_automatically",
                "currency": "usd",
                "start_date": now,
                "ended_at": None,
                "trial_end": None,
                "trial_start": None,
                "items": {"object": "list", "data": [item], "has_more": False},
                "latest_invoice": None,
                "default_payment_method": None,
                "metadata": metadata or {},
            }
        )

    def change_plan(self, subscription_id: str, price_id: str) -> dict:
        sub = self.objects[subscription_id]
        sub["items"]["data"][0]["price"] = self.objects[price_id]
        return sub

    def invoice(
        self, *, subscription_id: str, billing_reason: str = "subscription_create"
    ) -> dict:
        sub = self.objects[subscription_id]
        item = sub["items"]["data"][0]
        price = item["price"]
        invoice_id = new_id("invoice")
        return self.put(
            {
                "id": invoice_id,
                "object": "invoice",
                "customer": sub["customer"],
                "status": "paid",
                "paid": True,
                "billing_reason": billing_reason,
                "currency": "usd",
                "amount_due": price["unit_amount"],
                "amount_paid": price["unit_amount"],
                "amount_remaining": 0,
                "subtotal": price["unit_amount"],
                "total": price["unit_amount"],
                "attempt_count": 1,
                "attempted": True,
                "auto_advance": False,
                "collection_method": "charge_automatically",
                "period_start": item["current_period_start"],
                "period_end": item["current_period_end"],
                "number": None,
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {
                        "subscription": subscription_id,
                        "metadata": sub["metadata"],
                    },
                },
                "lines": {
                    "object": "list",
                    "has_more": False,
                    "data": [
                        {
                            "id": f"il_{invoice_id}",
                            "object": "line_item",
                            "amount": price["unit_amount"],
                            "currency": "usd",
                            "quantity": 1,
                            "period": {
                                "start": item["current_period_start"],
                                "end": item["current_period_end"],
                            },
                            "pricing": {
                                "type": "price_details",
                                "price_details": {
                                    "price": price["id"],
                                    "product": price["product"],
                                },
                            },
                            "parent": {
                                "type": "subscription_item_details",
                                "subscription_item_details": {
                                    "subscription": subscription_id,
                                    "subscription_item": item["id"],
                                },
                            },
                            "metadata": {},
                        }
                    ],
                },
            }
        )

    # --- webhooks -----------------------------------------------------
    def event(self, type: str, obj: dict, *, id: str | None = None) -> dict:
        return {
            "id": id or new_id("event"),
            "object": "event",
            "api_version": "2026-05-27.dahlia",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
            "data": {"object": json.loads(json.dumps(obj))},
        }

    def events(self) -> list[dict]:
        return [o for o in self.objects.values() if o.get("object") == "event"]

    @staticmethod
    def signed(event: dict, secret: str) -> tuple[str, str]:
        """The body and its ``Stripe-Signature`` header."""
        body = json.dumps(event)
        return body, stripe.WebhookSignature.generate_signature_header(body, secret)

    # --- HTTP ---------------------------------------------------------
    def _handle(self, request):
        url = urlparse(request.url)
        path = url.path.removeprefix("/v1/").strip("/")
        self.requests.append((request.method, path))
        body = request.body or ""
        if isinstance(body, bytes):
            body = body.decode()
        params = decode_form(body if request.method == "POST" else url.query)
        if path in self.failing:
            error = {"error": {"type": "api_error", "message": "Stripe is down"}}
            return 500, {"Content-Type": "application/json"}, json.dumps(error)
        if path == "account":
            return self._ok(self.account)
        if request.method == "POST" and path in COLLECTIONS:
            return self._ok(self._create(COLLECTIONS[path], params))
        if request.method == "GET" and path in COLLECTIONS:
            kind = COLLECTIONS[path]
            data = [o for o in self.objects.values() if o.get("object") == kind]
            for key in ("customer", "subscription", "payment_intent"):
                if key in params:
                    data = [o for o in data if o.get(key) == params[key]]
            if "lookup_keys" in params:
                data = [o for o in data if o.get("lookup_key") in params["lookup_keys"]]
            return self._ok(
                {
                    "object": "list",
                    "data": data,
                    "has_more": False,
                    "url": f"/v1/{path}",
                }
            )
        parts = path.split("/")
        if request.method == "GET" and len(parts) == 3 and parts[1] in self.objects:
            # A sub-list (a product's features, a charge's refunds): empty.
            return self._ok(
                {"object": "list", "data": [], "has_more": False, "url": f"/v1/{path}"}
            )
        object_id = parts[-1]
        obj = self.objects.get(object_id)
        if obj is None:
            return self._missing(object_id)
        if request.method == "POST":
            obj.update({k: v for k, v in params.items() if k != "expand"})
        return self._ok(obj)

    def _create(self, kind: str, params: dict) -> dict:
        params.pop("expand", None)
        obj = {"id": new_id(kind), "object": kind, **params}
        if kind == "customer":
            obj.update(
                balance=0,
                currency="usd",
                delinquent=False,
                default_source=None,
                invoice_settings={"default_payment_method": None},
            )
        elif kind == "checkout.session":
            prices = [self.objects[item["price"]] for item in params["line_items"]]
            total = sum(
                p["unit_amount"] * int(i.get("quantity", 1))
                for p, i in zip(prices, params["line_items"], strict=True)
            )
            discount = 0
            for entry in params.get("discounts", []):
                coupon = self.objects[entry["coupon"]]
                discount += round(total * float(coupon["percent_off"]) / 100)
            obj.update(
                status="open",
                payment_status="unpaid",
                amount_subtotal=total,
                amount_total=total - discount,
                currency="usd",
                payment_intent=None,
                subscription=None,
                url=f"https://checkout.stripe.com/c/pay/{obj['id']}",
                expires_at=int(time.time()) + 86400,
            )
        elif kind == "billing_portal.session":
            obj["url"] = f"https://billing.stripe.com/p/session/{obj['id']}"
        elif kind == "price":
            obj.update(
                active=True,
                currency=params.get("currency", "usd"),
                unit_amount=int(params["unit_amount"]),
                unit_amount_decimal=str(params["unit_amount"]),
                billing_scheme="per_unit",
                tax_behavior="unspecified",
                type="recurring" if params.get("recurring") else "one_time",
                nickname=None,
            )
            if params.get("recurring"):
                obj["recurring"] = {
                    "interval": params["recurring"]["interval"],
                    "interval_count": 1,
                    "usage_type": "licensed",
                }
            else:
                obj["recurring"] = None
        elif kind == "product":
            obj.update(active=True, type="service", description=None)
        elif kind == "coupon":
            obj.update(
                valid=True,
                percent_off=float(params["percent_off"]),
                amount_off=None,
                currency=None,
                duration=params.get("duration", "forever"),
                times_redeemed=0,
            )
        return self.put(obj)

    @staticmethod
    def _ok(obj):
        return 200, {"Content-Type": "application/json"}, json.dumps(obj)

    @staticmethod
    def _missing(object_id):
        error = {
            "error": {
                "code": "resource_missing",
                "message": f"No such object: '{object_id}'",
                "param": "id",
                "type": "invalid_request_error",
            }
        }
        return 404, {"Content-Type": "application/json"}, json.dumps(error)
