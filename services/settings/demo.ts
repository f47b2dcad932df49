/**
 * The demo shop's shipping and tax (SEED_DEMO_DATA), written with the first start's settings of a fresh store only:
 * a store that exists keeps what it holds, whatever an admin changed. Domestic (US) orders keep the default rate of
 * 0 %, so only an order shipped abroad shows tax. Pure data.
 */
import type { Settings } from "./model";

/** Shipping 4.99, free from 100.00 of discounted goods (so the demo's free-shipping voucher has a fee to waive). */
export const DEMO_SHIPPING: Settings["shipping"] = { flat_fee: 4.99, free_over: 100 };

/** VAT and GST rates of a few countries, percent. */
export const DEMO_TAX_RATES: Record<string, number> = { DE: 19, FR: 20, GB: 20, NL: 21, CA: 5 };

/** The first start's settings with the demo's shipping and tax. */
export function withDemoSettings(base: Settings): Settings {
	return { ...base, shipping: { ...DEMO_SHIPPING }, tax: { default_rate: base.tax.default_rate, rates: { ...DEMO_TAX_RATES } } };
}
