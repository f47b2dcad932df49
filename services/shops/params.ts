/**
 * fastest-validator schemas of the shops actions, beside their TypeScript types.
 */
import { withoutNulls } from "../common/schema";
import { pagingParams } from "../common/paging";
import { SHOP_STATUSES, type ShopStatus } from "./model";

export interface CreateParams {
	name: string;
	description?: string;
}
export interface IdParams {
	id: string;
}
export interface ListParams {
	status?: ShopStatus;
	page: number;
	page_size: number;
}

/** A new shop: null in any field is refused (422 naming it), unknown fields are dropped. */
export const createParams = withoutNulls({
	name: { type: "string", min: 2, max: 80, trim: true },
	description: { type: "string", max: 2000, trim: true, optional: true },
});

export const idParams = { id: { type: "string", min: 1, max: 100 } } as const;

export const listParams = {
	status: { type: "enum", values: SHOP_STATUSES, optional: true },
	...pagingParams,
} as const;
