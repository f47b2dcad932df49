/**
 * Settings for tests of the bill: shipping 4.99 (free from 100), tax 8.25 % by default, 19 % in DE, 20 % in FR, as
 * the settings service broadcasts them to every node (`settings.changed`).
 */
import type { SettingsSnapshot } from "../../services/settings/client";

/** The shipping and tax of these tests, as an admin sends them (PUT /admin/settings). */
export const BILL_SETTINGS = { shipping: { flat_fee: 4.99, free_over: 100 }, tax: { default_rate: 8.25, rates: { DE: 19, FR: 20 } } };

/** The shop's settings as the settings service broadcasts them to every node (for a broker without that service). */
export function snapshot(version: number): SettingsSnapshot {
	return {
		epoch: "test-epoch",
		version,
		updated_at: new Date().toISOString(),
		flags: { checkout: true, reviews: true, vouchers: true, marketplace: true },
		settings: {
			store_name: "ShopFlow",
			currency: "USD",
			...BILL_SETTINGS,
			low_stock_threshold: 5,
			marketplace: { commission_percent: 10 },
		},
	};
}
