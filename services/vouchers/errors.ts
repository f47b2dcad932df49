/**
 * Errors of the vouchers service: MoleculerClientError subclasses with an HTTP code and a SCREAMING_SNAKE type.
 */
import { Errors } from "moleculer";
import type { NotApplicableReason } from "./model";

/** 422: the voucher exists but does not apply to this cart now; the type says why. */
export class VoucherNotApplicableError extends Errors.MoleculerClientError {
	constructor(code: string, reason: NotApplicableReason, message: string) {
		super(message, 422, reason, { field: "code", code, reason });
	}
}

/** 409: at checkout the voucher could not be redeemed (used up meanwhile, expired, removed): nothing was charged. */
export class VoucherUnavailableError extends Errors.MoleculerClientError {
	constructor(code: string, reason: string, message: string) {
		super(message, 409, "VOUCHER_UNAVAILABLE", { code, reason });
	}
}

/** 409: a voucher with this code exists already. */
export class VoucherExistsError extends Errors.MoleculerClientError {
	constructor(code: string) {
		super(`voucher '${code}' exists already`, 409, "VOUCHER_EXISTS", { field: "code", code });
	}
}
