/**
 * The schema of every domain event's `data`, in fastest-validator rules as an action's params are: the one place
 * to declare what an event carries (docs/events.md). The events mixin compiles each once and checks it when an
 * event is published (a bug throws at once, in tests especially) and when it is consumed (an invalid event is
 * dead-lettered with SCHEMA_INVALID). Fields not named here are let through, so a producer may add one before its
 * consumers read it; a field consumers rely on is named here. `version` is the envelope's version of the type
 * (raised when a change is not backward compatible). Every envelope carries an HMAC signature and a consumer
 * refuses one without a valid signature (mixins/events/envelope.ts): order.* and payment.* move money, and the
 * others (product.*, shop.*, inventory.*, ...) change what is listed, priced and sold, so none is taken on trust.
 *
 * To add an event: its name in EVENTS (events.ts), its payload type there, and its entry here; the compiler refuses
 * an EVENTS name without an entry, and publishing a name that is not here throws.
 */
import { EVENTS, type EventName } from "./events";

/** A fastest-validator rule (as in an action's params). */
export type FieldRule = Record<string, unknown> | string;

export interface EventSchema {
	/** The envelope version of this type; 1 until a change that old consumers could not read. */
	version: number;
	/** Whether the envelope must carry a valid signature (default: yes). */
	signed?: boolean;
	/** The rules of `data`, one per field. */
	data: Record<string, FieldRule>;
}

const id = { type: "string", min: 1, max: 200 } as const;
const optionalId = { type: "string", min: 1, max: 200, nullable: true } as const;
const text = { type: "string", max: 2000 } as const;
const nullableText = { type: "string", max: 2000, nullable: true } as const;
const cents = { type: "number", integer: true } as const;
const count = { type: "number", integer: true, min: 0 } as const;
const currency = { type: "string", min: 3, max: 3 } as const;
const version = { type: "number", integer: true, min: 0 } as const;
const stockLines = {
	type: "array",
	items: { type: "object", props: { product_id: id, warehouse_id: id, quantity: { type: "number", integer: true, min: 1 } } },
} as const;

/**
 * A product as product events carry it. Its identity, price and version are checked; the descriptive fields may be
 * missing or null in rows stored by earlier versions (search skips a product it cannot index).
 */
const productSnapshot = {
	type: "object",
	props: {
		id,
		price_cents: cents,
		currency,
		active: "boolean",
		version,
		name: { type: "string", optional: true, nullable: true },
		category: { type: "string", optional: true, nullable: true },
		tags: { type: "array", items: "string", optional: true, nullable: true },
		shop_id: { ...id, optional: true },
		shop_listed: { type: "boolean", optional: true },
		shop_version: { ...version, optional: true },
	},
} as const;

const payment = { payment_id: id, order_id: id, user_id: id, amount_cents: count, currency } as const;
const shopChanged = { shop_id: id, owner_id: optionalId, status: { type: "enum", values: ["PENDING", "ACTIVE", "SUSPENDED"] }, version } as const;
const productChanged = { product_id: id, version, product: productSnapshot } as const;

/** Every event type's schema. `satisfies Record<EventName, ...>`: an event without a schema does not compile. */
export const EVENT_SCHEMAS = {
	[EVENTS.USER_REGISTERED]: { version: 1, data: { user_id: id, email: { type: "string", min: 3, max: 320 }, name: text } },
	[EVENTS.PRODUCT_CREATED]: { version: 1, data: productChanged },
	[EVENTS.PRODUCT_UPDATED]: { version: 1, data: productChanged },
	[EVENTS.PRODUCT_PRICE_CHANGED]: {
		version: 1,
		data: { product_id: id, version, currency, old_price_cents: cents, new_price_cents: cents, old_price: "number", new_price: "number" },
	},
	[EVENTS.PRODUCT_DELETED]: { version: 1, data: { product_id: id, version } },
	[EVENTS.INVENTORY_RESERVED]: { version: 1, data: { order_id: id, user_id: optionalId, lines: stockLines } },
	[EVENTS.INVENTORY_RESERVATION_FAILED]: {
		version: 1,
		data: { order_id: id, user_id: optionalId, product_id: id, requested: count, available: "number", reason: { type: "equal", value: "INSUFFICIENT_STOCK" } },
	},
	[EVENTS.INVENTORY_RELEASED]: { version: 1, data: { order_id: id, user_id: optionalId, lines: stockLines, reason: nullableText, was_committed: "boolean" } },
	[EVENTS.INVENTORY_LOW]: { version: 1, data: { product_id: id, available: "number", threshold: count } },
	[EVENTS.REVIEW_CREATED]: {
		version: 1,
		data: { review_id: id, product_id: id, user_id: id, rating: { type: "number", min: 1, max: 5 }, average_rating: "number", rating_count: count },
	},
	[EVENTS.ORDER_CREATED]: {
		version: 1,
		data: {
			order_id: id,
			user_id: id,
			status: { type: "equal", value: "PENDING" },
			total_cents: count,
			currency,
			items: { type: "array", items: { type: "object", props: { product_id: id, quantity: { type: "number", integer: true, min: 1 } } } },
		},
	},
	[EVENTS.ORDER_UPDATED]: {
		version: 1,
		data: { order_id: id, user_id: id, status: { type: "string", min: 1, max: 40 }, failure_reason: nullableText, reason: nullableText, total_cents: count, currency },
	},
	[EVENTS.ORDER_CANCELLED]: { version: 1, data: { order_id: id, user_id: id, reason: nullableText } },
	[EVENTS.ORDER_SHIPPED]: { version: 1, data: { order_id: id, user_id: id, shipment_id: id, carrier: text, tracking_number: text } },
	// The sellers' ledger books money from it.
	[EVENTS.SHIPMENT_DELIVERED]: {
		version: 1,
		data: {
			order_id: id,
			user_id: id,
			shipment_id: id,
			shop_id: id,
			currency,
			lines: { type: "array", items: { type: "object", props: { product_id: id, quantity: { type: "number", integer: true, min: 1 }, amount_cents: count } } },
			shipments: { type: "array", items: { type: "object", props: { id, shop_id: id, status: { type: "string", min: 1, max: 40 } } } },
		},
	},
	[EVENTS.VOUCHER_REDEEMED]: { version: 1, data: { code: id, order_id: id, voucher_type: { type: "string", min: 1, max: 40 }, discount_cents: count, uses: count } },
	[EVENTS.VOUCHER_RELEASED]: { version: 1, data: { code: id, order_id: id, voucher_type: { type: "string", min: 1, max: 40 }, discount_cents: count, uses: count } },
	[EVENTS.ORDER_DELIVERED]: { version: 1, data: { order_id: id, user_id: id, shipment_id: id } },
	[EVENTS.PAYMENT_PROCESSED]: { version: 1, data: payment },
	[EVENTS.PAYMENT_FAILED]: { version: 1, data: { ...payment, reason: text } },
	[EVENTS.PAYMENT_REFUNDED]: { version: 1, data: { ...payment, refund_id: id, reason: text } },
	[EVENTS.NOTIFICATION_SENT]: {
		version: 1,
		data: {
			notification_id: id,
			user_id: optionalId,
			channel: { type: "enum", values: ["email", "sms", "push"] },
			channels: { type: "array", items: { type: "enum", values: ["email", "sms", "push"] }, optional: true },
			source_event: id,
			source_event_id: id,
			order_id: optionalId,
		},
	},
	[EVENTS.SHOP_CREATED]: { version: 1, data: shopChanged },
	[EVENTS.SHOP_APPROVED]: { version: 1, data: shopChanged },
	[EVENTS.SHOP_SUSPENDED]: { version: 1, data: shopChanged },
} as const satisfies Record<EventName, EventSchema>;

/** The schema of an event type, or undefined for a type nobody declared. */
export function eventSchemaOf(type: string): EventSchema | undefined {
	return Object.prototype.hasOwnProperty.call(EVENT_SCHEMAS, type) ? (EVENT_SCHEMAS as Record<string, EventSchema>)[type] : undefined;
}

/** Whether envelopes of this type must be signed. */
export function isSignedType(type: string): boolean {
	const schema = eventSchemaOf(type);
	return schema?.signed ?? true;
}
