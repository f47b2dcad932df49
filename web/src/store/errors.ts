// The gateway's error types (services/common/errors.ts, services/*/errors.ts and the checkout saga's step errors)
// told to the shopper in plain words.
import { ApiError } from "../lib/api";

const MESSAGES: Record<string, string> = {
	PAYMENT_DECLINED: "Your card was declined. Choose another payment method and try again; nothing was charged.",
	PAYMENT_ERROR: "The payment did not go through; nothing was charged. Try again or use another payment method.",
	PAYMENT_GATEWAY_UNAVAILABLE: "The payment service is not answering right now; nothing was charged. Try again in a moment.",
	INSUFFICIENT_STOCK: "Some items are no longer in stock in the quantity you asked for. Lower the quantity in your cart.",
	OUT_OF_STOCK: "Some items went out of stock while you checked out; nothing was charged. Lower the quantity in your cart.",
	INVENTORY_UNAVAILABLE: "We could not reserve your items right now; nothing was charged. Try again in a moment.",
	SHIPPING_ERROR: "Shipping could not be arranged; your payment was refunded.",
	PRODUCT_UNAVAILABLE: "A product in your cart is no longer sold. Remove it to continue.",
	VOUCHER_UNAVAILABLE: "Your voucher has just been used up or has ended; nothing was charged. Remove it from your cart to continue.",
	VOUCHER_USED_UP: "This voucher has been used up.",
	VOUCHER_EXPIRED: "This voucher has expired.",
	VOUCHER_NOT_STARTED: "This voucher is not valid yet.",
	VOUCHER_MIN_SUBTOTAL: "Your cart is below this voucher's minimum amount.",
	VOUCHER_NOT_APPLICABLE: "This voucher does not apply to the items in your cart.",
	VOUCHER_NOT_FOUND: "There is no voucher with this code.",
	CART_EMPTY: "Your cart is empty.",
	CHECKOUT_IN_PROGRESS: "This cart is being checked out already; look at your orders in a moment.",
	IDEMPOTENCY_KEY_IN_PROGRESS: "Your order is being placed already; look at your orders in a moment.",
	CHECKOUT_OUTCOME_UNKNOWN: "We could not confirm your order. Press the button again: it will not order twice.",
	FEATURE_DISABLED: "This part of the shop is paused for maintenance; try again in a few minutes.",
	SERVICE_UNAVAILABLE: "Part of the shop is not answering right now; try again in a moment.",
	SHUTTING_DOWN: "The shop is restarting; try again in a moment.",
	RATE_LIMITED: "Too many requests; wait a moment and try again.",
	UNAUTHORIZED: "Please sign in.",
	INVALID_CREDENTIALS: "The email or password is wrong.",
	EMAIL_TAKEN: "An account with this email exists already; sign in instead.",
	TOO_MANY_ATTEMPTS: "Too many attempts; wait a few minutes and try again.",
	CARD_NUMBER_REFUSED: "Never enter a full card number here; save the card's token from your payment provider.",
	NETWORK: "The shop could not be reached; check your connection.",
};

/** The words for an error type, or null when it has none of its own. */
export function messageForType(type: string): string | null {
	return MESSAGES[type] ?? null;
}

/** What to tell the shopper about a failed call: the type's words, or the gateway's own message. */
export function explain(e: unknown): string {
	if (e instanceof ApiError) return messageForType(e.type) ?? e.message;
	return "Something went wrong; try again.";
}
