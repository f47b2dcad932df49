/**
 * The order's bill at checkout: the priced cart, the cart's voucher as `vouchers.quote` answers it now, and the
 * fees and tax of the settings for the shipping country.
 */
import type { Context } from "moleculer";
import type { Bill } from "../common/bill";
import { callDependency } from "../common/dependency";
import type { CheckoutCart } from "../cart/client";
import type { SettingsCache } from "../settings/client";
import { VoucherUnavailableError, type QuoteAnswer } from "../vouchers/client";
import { orderBill, orderLineDiscounts, quoteLinesOf, type CatalogRow, type PricedCart } from "./model";

/**
 * The order's bill for the shipping country; a cart voucher that no longer applies (used up, expired, removed)
 * refuses the checkout with 409 VOUCHER_UNAVAILABLE before any order exists: the customer removes it or retries.
 */
export async function billFor(
	ctx: Context,
	settings: SettingsCache,
	cart: CheckoutCart,
	priced: PricedCart,
	rows: CatalogRow[],
	country: string | null,
): Promise<{ bill: Bill; discounts: number[] }> {
	let quote: QuoteAnswer | null = null;
	// Vouchers switched off grant no discount: the customer takes the voucher off (or waits) rather than pay more unawares.
	if (cart.voucher && !settings.isEnabled("vouchers"))
		throw new VoucherUnavailableError(cart.voucher, "FEATURE_DISABLED", "vouchers are switched off for now; remove the voucher from the cart or try again later");
	if (cart.voucher) {
		const params = { code: cart.voucher, user_id: cart.user_id, currency: priced.currency, lines: quoteLinesOf(priced, rows) };
		quote = await callDependency("vouchers", ctx.call<QuoteAnswer, typeof params>("vouchers.quote", params)).catch((err: unknown) => {
			const e = err as { code?: number; type?: string; message?: string };
			if (e.code === 404 || e.code === 422) throw new VoucherUnavailableError(cart.voucher as string, e.type ?? "VOUCHER_NOT_APPLICABLE", `${e.message ?? "the voucher does not apply"}; remove it from the cart or try again`);
			throw err;
		});
	}
	return { bill: orderBill(priced, quote, settings.settings, country), discounts: orderLineDiscounts(priced, quote) };
}
