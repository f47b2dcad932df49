/**
 * fastest-validator schemas of the inventory actions, beside their TypeScript types.
 */
import type { ItemRequest } from "./model";

export interface ItemsParams {
	items: ItemRequest[];
}
export interface ReserveParams extends ItemsParams {
	order_id: string;
	user_id?: string;
}
export interface OrderParams {
	order_id: string;
	reason?: string;
}
export interface ProductParams {
	product_id: string;
}
export interface RestockParams extends ProductParams {
	warehouse_id: string;
	quantity: number;
}
export interface SetLevelParams extends ProductParams {
	warehouse_id: string;
	on_hand: number;
}
export const itemsParam = {
	type: "array",
	min: 1,
	max: 200,
	items: {
		type: "object",
		strict: "remove",
		props: {
			product_id: { type: "string", min: 1, max: 100 },
			quantity: { type: "number", integer: true, positive: true, max: 1_000_000 },
		},
	},
} as const;
export const productParam = { type: "string", min: 1, max: 100 } as const;
export const warehouseParam = { type: "string", pattern: /^[a-z0-9][a-z0-9-]{0,62}$/, trim: true } as const;
export const orderIdParam = { type: "string", min: 1, max: 100 } as const;
export const restockParams = {
	product_id: productParam,
	warehouse_id: warehouseParam,
	quantity: { type: "number", integer: true, positive: true, max: 1_000_000 },
} as const;
export const setLevelParams = {
	product_id: productParam,
	warehouse_id: warehouseParam,
	on_hand: { type: "number", integer: true, min: 0, max: 1_000_000 },
} as const;
export interface ReservationsParams {
	status?: string;
	limit?: number;
}
export const reservationsParams = {
	status: { type: "string", optional: true, max: 20 },
	limit: { type: "number", integer: true, min: 1, max: 10_000, optional: true, convert: true },
} as const;
