/**
 * Parameter schemas (fastest-validator) of the orders actions, next to their TypeScript types.
 */
import type { Bill } from "../common/bill";
import { pagingParams } from "../common/paging";
import { ORDER_STATUSES, type OrderStatus } from "./state-machine";

const ID = { type: "string", min: 1, max: 100 } as const;

export interface CreateParams {
	user_id: string;
	items: Array<{ product_id: string; name: string; price_cents: number; quantity: number; shop_id?: string | null; discount_cents?: number }>;
	currency: string;
	shipping_address: unknown;
	payment: { token: string; method_id?: string | null };
	idempotency_key?: string;
	respond_async?: boolean;
	bill?: Bill;
}

const CENTS = { type: "number", integer: true, min: 0, max: Number.MAX_SAFE_INTEGER } as const;

export const createParams = {
	user_id: ID,
	items: {
		type: "array",
		min: 1,
		max: 100,
		items: {
			type: "object",
			strict: "remove",
			props: {
				product_id: ID,
				name: { type: "string", min: 1, max: 300 },
				price_cents: { type: "number", integer: true, min: 0 },
				quantity: { type: "number", integer: true, positive: true, max: 10_000 },
				shop_id: { type: "string", min: 1, max: 100, optional: true, nullable: true },
				discount_cents: { ...CENTS, optional: true },
			},
		},
	},
	currency: { type: "string", pattern: /^[A-Z]{3}$/ },
	shipping_address: [{ type: "object" }, { type: "string", min: 1, max: 300 }],
	payment: {
		type: "object",
		strict: "remove",
		props: { token: { type: "string", min: 1, max: 64 }, method_id: { type: "string", max: 100, optional: true, nullable: true } },
	},
	idempotency_key: { type: "string", min: 1, max: 200, optional: true },
	respond_async: { type: "boolean", optional: true, convert: true },
	bill: {
		type: "object",
		optional: true,
		strict: "remove",
		props: {
			subtotal_cents: CENTS,
			discount_cents: CENTS,
			shipping_fee_cents: CENTS,
			tax_cents: CENTS,
			total_cents: CENTS,
			tax_rate: { type: "number", min: 0, max: 100 },
			voucher: {
				type: "object",
				nullable: true,
				strict: "remove",
				props: { code: { type: "string", min: 1, max: 40 }, discount_cents: CENTS, free_shipping: { type: "boolean" } },
			},
		},
	},
} as const;

export interface IdParams {
	id: string;
}
export const idParams = { id: ID } as const;

export interface ListParams {
	status?: OrderStatus;
	page?: number;
	page_size?: number;
}
export const listParams = {
	status: { type: "enum", values: [...ORDER_STATUSES], optional: true },
	page: { type: "number", integer: true, min: 1, max: 100_000, convert: true, optional: true },
	page_size: { type: "number", integer: true, min: 1, max: 100, convert: true, optional: true },
} as const;

export interface FindParams {
	status?: OrderStatus;
	user_id?: string;
	limit?: number;
}
export const findParams = {
	status: { type: "enum", values: [...ORDER_STATUSES], optional: true },
	user_id: { ...ID, optional: true },
	limit: { type: "number", integer: true, min: 1, max: 10_000, convert: true, optional: true },
} as const;

export interface ShopOrdersParams {
	id: string;
	status?: OrderStatus;
	page: number;
	page_size: number;
}
/** A shop's orders (`GET /shops/:id/orders?status=&page=&page_size=`). */
export const shopOrdersParams = {
	id: ID,
	status: { type: "enum", values: ORDER_STATUSES, optional: true },
	...pagingParams,
} as const;
