/**
 * Parameter schemas (fastest-validator) of the vouchers actions, next to their TypeScript types, and the check of
 * a voucher's fields taken together (a percent above 100, a window that ends before it starts).
 */
import { ValidationFailedError } from "../common/errors";
import { hasAtMostTwoDecimals, toCents } from "../common/money";
import { VOUCHER_TYPES, type VoucherDoc } from "./model";
import type { VoucherType } from "../common/bill";

export const CODE = { type: "string", trim: true, pattern: /^[A-Za-z0-9_-]{2,40}$/, messages: { stringPattern: "The 'code' field must be 2 to 40 letters, digits, '-' or '_'." } } as const;
const ORDER_ID = { type: "string", pattern: /^[A-Za-z0-9_-]{1,100}$/ } as const;
const USER_ID = { type: "string", min: 1, max: 100 } as const;
/** An ISO 8601 date, or date and time with its zone (`2026-12-24T00:00:00Z`); a number or `true` would be read as a time in 1970. */
const DATE = {
	type: "string",
	pattern: /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/,
	optional: true,
	nullable: true,
	messages: { stringPattern: "The '{field}' field must be an ISO 8601 date (2026-12-24, midnight UTC) or date and time (2026-12-24T18:00:00Z)." },
} as const;
const LIMIT = { type: "number", integer: true, min: 1, max: 100_000_000, optional: true, nullable: true } as const;
const NAMES = { type: "array", max: 200, optional: true, items: { type: "string", min: 1, max: 100, trim: true } } as const;

/** The writable fields of a voucher, as an admin sends them. */
export interface VoucherFields {
	type?: VoucherType;
	value?: number;
	currency?: string | null;
	min_subtotal?: number | null;
	starts_at?: string | null;
	ends_at?: string | null;
	max_uses?: number | null;
	max_uses_per_customer?: number | null;
	product_ids?: string[];
	categories?: string[];
	shop_id?: string | null;
	active?: boolean;
}

const fieldRules = {
	type: { type: "enum", values: [...VOUCHER_TYPES], optional: true },
	value: { type: "number", min: 0, max: 100_000_000, optional: true },
	currency: { type: "string", pattern: /^[A-Z]{3}$/, optional: true, nullable: true },
	min_subtotal: { type: "number", min: 0, max: 100_000_000, optional: true, nullable: true },
	starts_at: DATE,
	ends_at: DATE,
	max_uses: LIMIT,
	max_uses_per_customer: LIMIT,
	product_ids: NAMES,
	categories: NAMES,
	shop_id: { type: "string", min: 1, max: 100, optional: true, nullable: true },
	active: { type: "boolean", optional: true },
} as const;

export interface CreateParams extends VoucherFields {
	code: string;
	type: VoucherType;
	value: number;
}
export const createParams = { $$strict: "remove", code: CODE, ...fieldRules, type: { type: "enum", values: [...VOUCHER_TYPES] }, value: { type: "number", min: 0, max: 100_000_000 } } as const;

export interface UpdateParams extends VoucherFields {
	code: string;
}
export const updateParams = { $$strict: "remove", code: CODE, ...fieldRules } as const;

export interface CodeParams {
	code: string;
}
export const codeParams = { code: CODE } as const;

export interface ListParams {
	page?: number;
	page_size?: number;
	active?: boolean;
}
export const listParams = {
	page: { type: "number", integer: true, min: 1, max: 100_000, convert: true, optional: true },
	page_size: { type: "number", integer: true, min: 1, max: 100, convert: true, optional: true },
	active: { type: "boolean", convert: true, optional: true },
} as const;

const LINE = {
	type: "object",
	strict: "remove",
	props: {
		product_id: { type: "string", min: 1, max: 100 },
		category: { type: "string", max: 100, optional: true, nullable: true },
		shop_id: { type: "string", max: 100, optional: true, nullable: true },
		price_cents: { type: "number", integer: true, min: 0 },
		quantity: { type: "number", integer: true, positive: true },
	},
} as const;

export interface QuoteParams {
	code: string;
	user_id: string;
	currency: string;
	lines: Array<{ product_id: string; category?: string | null; shop_id?: string | null; price_cents: number; quantity: number }>;
}
export const quoteParams = { code: CODE, user_id: USER_ID, currency: { type: "string", pattern: /^[A-Z]{3}$/ }, lines: { type: "array", max: 200, items: LINE } } as const;

export interface RedeemParams {
	code: string;
	order_id: string;
	user_id: string;
	discount_cents: number;
}
export const redeemParams = { code: CODE, order_id: ORDER_ID, user_id: USER_ID, discount_cents: { type: "number", integer: true, min: 0 } } as const;

export interface ReleaseParams {
	code: string;
	order_id: string;
}
export const releaseParams = { code: CODE, order_id: ORDER_ID } as const;

type DocFields = Pick<
	VoucherDoc,
	"type" | "value" | "currency" | "min_subtotal_cents" | "starts_at" | "ends_at" | "max_uses" | "max_uses_per_customer" | "product_ids" | "categories" | "shop_id" | "active"
>;

/** The stored fields for what an admin sent, over the voucher as it was (none when creating); 422 naming the field. */
export function toDocFields(p: VoucherFields, before: DocFields | null): DocFields {
	const type = p.type ?? before?.type ?? "percent";
	let value = p.value ?? (before && type === before.type ? before.value : 0);
	if (type === "percent" && (value <= 0 || value > 100 || !hasAtMostTwoDecimals(value)))
		throw new ValidationFailedError("value", "a percent voucher's value is a percent above 0 and at most 100, with at most two decimals");
	if (type === "fixed") {
		if (p.value !== undefined) {
			if (value <= 0 || !hasAtMostTwoDecimals(value)) throw new ValidationFailedError("value", "a fixed voucher's value is an amount above 0 with at most two decimals");
			value = toCents(value);
		} else if (before?.type !== "fixed") throw new ValidationFailedError("value", "a fixed voucher needs its amount");
	}
	if (type === "free_shipping") value = 0;
	const minSubtotal = p.min_subtotal === undefined ? (before?.min_subtotal_cents ?? null) : p.min_subtotal === null ? null : toCents(p.min_subtotal);
	if (p.min_subtotal != null && !hasAtMostTwoDecimals(p.min_subtotal)) throw new ValidationFailedError("min_subtotal", "has at most two decimals");
	const iso = (field: "starts_at" | "ends_at", old: string | null | undefined): string | null => {
		const d = p[field];
		if (d === undefined) return old ?? null;
		if (d === null) return null;
		const t = Date.parse(d);
		if (Number.isNaN(t)) throw new ValidationFailedError(field, "is not a date that exists");
		return new Date(t).toISOString();
	};
	const starts = iso("starts_at", before?.starts_at);
	const ends = iso("ends_at", before?.ends_at);
	if (starts !== null && ends !== null && ends <= starts) throw new ValidationFailedError("ends_at", "must be after starts_at");
	const pick = <K extends keyof VoucherFields & keyof DocFields>(k: K, dflt: DocFields[K]): DocFields[K] =>
		(p[k] === undefined ? (before?.[k] ?? dflt) : p[k]) as DocFields[K];
	return {
		type,
		value,
		currency: pick("currency", null),
		min_subtotal_cents: minSubtotal,
		starts_at: starts,
		ends_at: ends,
		max_uses: pick("max_uses", null),
		max_uses_per_customer: pick("max_uses_per_customer", null),
		product_ids: pick("product_ids", []),
		categories: pick("categories", []),
		shop_id: pick("shop_id", null),
		active: pick("active", true),
	};
}
