/**
 * What other services may use of `vouchers`: the answers of `vouchers.quote`, `vouchers.redeem` and
 * `vouchers.release`, and the voucher as the bill takes it.
 */
import type { BillVoucher } from "../common/bill";

export type { BillVoucher };

/** A code that applies to a cart: the voucher, and for each line given whether its scope covers it. */
export interface QuoteAnswer {
	voucher: BillVoucher;
	eligible: boolean[];
}

export interface RedeemAnswer {
	code: string;
	order_id: string;
	status: "REDEEMED";
	uses: number;
}

export interface ReleaseAnswer {
	code: string;
	order_id: string;
	/** NONE: the order held no use (a tombstone now stops a late redeem of it). */
	status: "RELEASED" | "NONE";
}

/** The 422 types that say why a voucher does not apply to a cart. */
export const NOT_APPLICABLE_TYPES = ["VOUCHER_EXPIRED", "VOUCHER_NOT_STARTED", "VOUCHER_MIN_SUBTOTAL", "VOUCHER_USED_UP", "VOUCHER_NOT_APPLICABLE"] as const;

export { VoucherUnavailableError } from "./errors";
