/**
 * Parameter schemas (fastest-validator) of the shipping actions, next to their TypeScript types.
 */
import type { NewShipmentInput } from "./model";

export const ID = { type: "string", min: 1, max: 100 } as const;

/** shipping.create: the saga's shipping step, one shipment per order with a parcel per shop of its lines. */
export const createParams = {
	order_id: ID,
	user_id: ID,
	address: { type: "any", optional: true },
	currency: { type: "string", pattern: /^[A-Z]{3}$/, optional: true },
	items: {
		type: "array",
		optional: true,
		max: 100,
		items: {
			type: "object",
			strict: false,
			props: {
				product_id: ID,
				quantity: { type: "number", integer: true, positive: true },
				shop_id: { ...ID, optional: true },
				amount_cents: { type: "number", integer: true, min: 0, optional: true },
			},
		},
	},
	idempotency_key: { type: "string", max: 300, optional: true },
} as const;
export interface CreateParams extends NewShipmentInput {
	idempotency_key?: string;
}

/** shipping.cancel: the saga's compensation. */
export const cancelParams = { order_id: ID, reason: { type: "string", max: 300, optional: true } } as const;
export interface CancelParams {
	order_id: string;
	reason?: string;
}

export interface IdParams {
	id: string;
}

/** A shop's parcel: the shop's id and the parcel's. */
export interface ShopShipmentParams {
	id: string;
	shipment_id: string;
}
