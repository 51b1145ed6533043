"""The properties of tracked events that `user has ...` criteria may name (spec §6)."""

from __future__ import annotations

from segmentql.schema.types import (
    ANY,
    DATETIME,
    INTEGER,
    NUMBER,
    STRING,
    SchemaType,
    list_of,
    map_of,
    string,
)
from segmentql.syntax.ast import EventKind

_PRODUCT: dict[str, SchemaType] = {
    "productId": STRING, "id": STRING, "sku": STRING, "name": STRING, "category": STRING,
    "brand": STRING, "variant": STRING, "price": NUMBER, "displayPrice": NUMBER,
    "originalPrice": NUMBER, "url": STRING, "imageUrl": STRING,
}
_ORDER: dict[str, SchemaType] = {
    "orderId": STRING, "id": STRING, "currency": STRING, "subtotal": NUMBER, "total": NUMBER,
    "shippingPrice": NUMBER, "discount": NUMBER, "coupon": STRING, "paymentMethod": STRING,
    "installments": INTEGER, "status": string(enum=("placed", "paid", "completed")),
    "taxes": map_of(NUMBER), "costs": map_of(NUMBER), "items": list_of(ANY),
}

#: Event kind → its properties. `eventOccurred` also takes any path under `details`.
EVENT_PROPERTIES: dict[EventKind, dict[str, SchemaType]] = {
    EventKind.PAGE_OPENED: {"url": STRING, "title": STRING, "referrer": STRING},
    EventKind.PRODUCT_VIEWED: dict(_PRODUCT),
    EventKind.PRODUCT_ABANDONED: {
        **_PRODUCT, "index": INTEGER, "quantity": INTEGER, "total": NUMBER,
        "discount": NUMBER, "coupon": STRING,
    },
    EventKind.PRODUCT_ORDERED: {
        **_PRODUCT, "quantity": INTEGER, "total": NUMBER, "discount": NUMBER, "coupon": STRING,
    },
    EventKind.ORDER_PLACED: dict(_ORDER),
    EventKind.CART_ABANDONED: {
        "currency": STRING, "subtotal": NUMBER, "total": NUMBER, "shippingPrice": NUMBER,
        "discount": NUMBER, "coupon": STRING, "stage": STRING, "taxes": map_of(NUMBER),
        "costs": map_of(NUMBER), "items": list_of(ANY),
    },
    EventKind.CAMPAIGN_VIEWED: {
        "name": STRING, "source": STRING, "medium": STRING, "term": STRING, "content": STRING,
    },
    EventKind.POST_VIEWED: {
        "postId": STRING, "id": STRING, "title": STRING, "url": STRING,
        "publishTime": DATETIME, "updateTime": DATETIME, "tags": list_of(STRING),
        "categories": list_of(STRING), "authors": list_of(STRING),
    },
    # `path`, `query` and `anchor` are read from `link` when the event lacks them
    EventKind.LINK_OPENED: {"link": STRING, "path": STRING, "query": STRING, "anchor": STRING},
    EventKind.INTEREST_SHOWN: {"interests": list_of(STRING)},
    EventKind.EVENT_OCCURRED: {"name": STRING, "details": map_of(ANY)},
    EventKind.GOAL_COMPLETED: {"goalId": STRING, "value": NUMBER, "currency": STRING},
    EventKind.USER_SIGNED_IN: {"userId": STRING},
    EventKind.USER_SIGNED_UP: {"userId": STRING},
}


def property_type(event: EventKind, name: str) -> SchemaType | None:
    """The type of an event property (case-insensitive), or None if the event lacks it."""
    props = EVENT_PROPERTIES.get(event, {})
    found = props.get(name)
    if found is not None:
        return found
    folded = name.casefold()
    for key, value in props.items():
        if key.casefold() == folded:
            return value
    return None
