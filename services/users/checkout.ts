/**
 * What a checkout names, resolved against the user's saved data: an address id, an address object or one street
 * line; a saved payment method id or a one-off payment token. Pure code (errors are the shared client errors).
 */
import { NotFoundError, ValidationFailedError } from "../common/errors";
import { looksLikeCardNumber, type Address, type UserDoc } from "./model";
import type { AddressInput } from "./params";

/** A payment token as the simulated gateway issues them: card-456, tok_visa_4242. */
export const PAYMENT_TOKEN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/;

export type ShippingAddress = Omit<Address, "id"> & { id: string | null };

export interface PaymentChoice {
	method_id: string | null;
	token: string;
	brand: string | null;
	last4: string | null;
}

/** The address to ship to; an unknown saved id (addr_...) is a 404. */
export function resolveShippingAddress(user: UserDoc, addr: string | AddressInput): ShippingAddress {
	if (typeof addr !== "string")
		return {
			id: null,
			label: addr.label ?? null,
			street: addr.street,
			city: addr.city,
			postal_code: addr.postal_code ?? null,
			country: addr.country ?? null,
		};
	const saved = user.addresses.find(a => a.id === addr);
	if (saved) return saved;
	if (/^addr_/.test(addr)) throw new NotFoundError("address", addr);
	return { id: null, label: null, street: addr, city: "", postal_code: null, country: null };
}

/** The payment to charge; an unknown saved id (pm_...) is a 404 and a card number a 422. */
export function resolvePayment(user: UserDoc, pm: string): PaymentChoice {
	const saved = user.payment_methods.find(p => p.id === pm);
	if (saved) return { method_id: saved.id, token: saved.token, brand: saved.brand, last4: saved.last4 };
	if (/^pm_/.test(pm)) throw new NotFoundError("payment method", pm);
	if (looksLikeCardNumber(pm))
		throw new ValidationFailedError("payment_method", "looks like a full card number; send a payment token", "CARD_NUMBER_REFUSED");
	if (!PAYMENT_TOKEN.test(pm))
		throw new ValidationFailedError("payment_method", "must be a saved payment method id or a payment token such as card-456");
	return { method_id: null, token: pm, brand: null, last4: null };
}
