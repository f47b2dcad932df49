// Formatting shared by the pages: the API's money is a decimal number in the currency's units (DESIGN section 3),
// and dates are ISO strings.

/** Formats an amount in the currency's units, e.g. 39.99 → "$39.99" (api.ts's money() takes cents). */
export function price(amount: number, currency = "USD"): string {
	return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(amount);
}

/** Formats an ISO timestamp as a short local date and time. */
export function when(iso: string): string {
	return new Date(iso).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "medium" });
}

/** A fresh random key, e.g. for an Idempotency-Key header. */
export function randomKey(): string {
	return crypto.randomUUID();
}
