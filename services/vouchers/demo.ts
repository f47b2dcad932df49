/**
 * The demo vouchers (SEED_DEMO_DATA), as an admin would create them: one percent, one fixed, one free-shipping and
 * one expired voucher. The vouchers service stores them once, on the first start of a fresh store. Pure data.
 */
import type { CreateParams } from "./params";

export const DEMO_VOUCHERS: CreateParams[] = [
	/** 10 % off the whole cart, once per customer. */
	{ code: "WELCOME10", type: "percent", value: 10, max_uses_per_customer: 1 },
	/** 20.00 off a cart of at least 150.00, for the first 500 orders. */
	{ code: "SAVE20", type: "fixed", value: 20, min_subtotal: 150, max_uses: 500 },
	/** Shipping waived (the demo's flat fee is 4.99, free anyway from 100.00). */
	{ code: "FREESHIP", type: "free_shipping", value: 0 },
	/** 25 % off audio, which ended with the summer of 2025: applying it is a 422 VOUCHER_EXPIRED. */
	{ code: "SUMMER25", type: "percent", value: 25, categories: ["audio"], starts_at: "2025-06-01T00:00:00Z", ends_at: "2025-09-01T00:00:00Z" },
];
