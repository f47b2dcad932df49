import {
	channelsToUse,
	checkSettings,
	completeFlags,
	defaultSettings,
	isNewer,
	mergePreferences,
	mergeSettings,
	preferencesFromChannel,
	publicSettings,
	shippingCents,
	taxRateFor,
	type SettingsSnapshot,
} from "../../../../services/settings/model";
import { SettingsCache } from "../../../../services/settings/client";
import { settingPatch } from "../../../../config/boot/repl-commands";

const base = defaultSettings({ lowStockThreshold: 5 });

describe("settings model", () => {
	it("takes the low-stock threshold of a first start from the environment", () => {
		expect(defaultSettings({ lowStockThreshold: 12 }).low_stock_threshold).toBe(12);
		expect(checkSettings(base)).toBeNull();
	});

	it("merges sections field by field and replaces the tax rates, upper-casing their countries", () => {
		const a = mergeSettings(base, { shipping: { flat_fee: 4.99 }, tax: { rates: { us: 8.25, " de ": 19 } } });
		expect(a.shipping).toEqual({ flat_fee: 4.99, free_over: null });
		expect(a.tax).toEqual({ default_rate: 0, rates: { US: 8.25, DE: 19 } });
		const b = mergeSettings(a, { tax: { default_rate: 5 }, shipping: { free_over: 50 } });
		expect(b.tax.rates).toEqual({ US: 8.25, DE: 19 });
		expect(b.shipping).toEqual({ flat_fee: 4.99, free_over: 50 });
		expect(mergeSettings(b, { tax: { rates: {} } }).tax.rates).toEqual({});
		expect(base.shipping.flat_fee).toBe(0);
	});

	it.each([
		[{ currency: "usd" }, "currency"],
		[{ shipping: { flat_fee: 1.005 } }, "shipping.flat_fee"],
		[{ shipping: { free_over: -1 } }, "shipping.free_over"],
		[{ tax: { default_rate: 100.5 } }, "tax.default_rate"],
		[{ tax: { rates: { US: 8.12345 } } }, "tax.rates.US"],
		[{ tax: { rates: { "U$": 5 } } }, "tax.rates.U$"],
		[{ marketplace: { commission_percent: -2 } }, "marketplace.commission_percent"],
	])("names the field of a bad value %j", (patch, field) => {
		expect(checkSettings(mergeSettings(base, patch))?.field).toBe(field);
	});

	it("finds a country's tax rate without regard to case, else the default", () => {
		const s = mergeSettings(base, { tax: { default_rate: 5, rates: { US: 8.25 } } });
		expect(taxRateFor(s, "us")).toBe(8.25);
		expect(taxRateFor(s, " US ")).toBe(8.25);
		expect(taxRateFor(s, "FR")).toBe(5);
		expect(taxRateFor(s, null)).toBe(5);
		expect(taxRateFor(s, "constructor")).toBe(5);
	});

	it("gives shipping in integer cents", () => {
		expect(shippingCents(mergeSettings(base, { shipping: { flat_fee: 4.99, free_over: 50.1 } }))).toEqual({ flat_fee_cents: 499, free_over_cents: 5010 });
		expect(shippingCents(base)).toEqual({ flat_fee_cents: 0, free_over_cents: null });
	});

	it("leaves the admin-only fields out of the public subset", () => {
		const pub = publicSettings(base, completeFlags({ checkout: false }));
		expect(pub).not.toHaveProperty("low_stock_threshold");
		expect(pub).not.toHaveProperty("marketplace");
		expect(pub.features).toEqual({ checkout: false, reviews: true, vouchers: true, marketplace: true });
	});

	it("completes stored flags with new flags switched on and ignores unknown ones", () => {
		expect(completeFlags({ reviews: false, teleport: false })).toEqual({ checkout: true, reviews: false, vouchers: true, marketplace: true });
	});
});

describe("preferences", () => {
	it("start from the profile's one channel", () => {
		expect(preferencesFromChannel("push").notification_channels).toEqual({ email: false, sms: false, push: true });
		expect(preferencesFromChannel(undefined).notification_channels).toEqual({ email: true, sms: false, push: false });
	});

	it("merge channel by channel", () => {
		const p = mergePreferences(preferencesFromChannel("sms"), { notification_channels: { email: true }, language: "de" });
		expect(p).toEqual({ notification_channels: { email: true, sms: true, push: false }, language: "de" });
	});

	it("send on the enabled channels, the profile's first, and on none when all are off", () => {
		const p = mergePreferences(preferencesFromChannel("email"), { notification_channels: { push: true } });
		expect(channelsToUse(p)).toEqual(["email", "push"]);
		expect(channelsToUse(p, "push")).toEqual(["push", "email"]);
		expect(channelsToUse(p, "sms")).toEqual(["email", "push"]);
		expect(channelsToUse(mergePreferences(p, { notification_channels: { email: false, push: false } }), "email")).toEqual([]);
	});
});

describe("SettingsCache", () => {
	const snap = (epoch: string, version: number, flat_fee: number): SettingsSnapshot => ({
		epoch,
		version,
		settings: mergeSettings(base, { shipping: { flat_fee } }),
		flags: completeFlags({ checkout: version % 2 === 0 }),
		updated_at: "2026-01-01T00:00:00.000Z",
	});

	it("holds the defaults and every feature on until it loads", () => {
		const cache = new SettingsCache(base);
		expect(cache.loaded).toBe(false);
		expect(cache.settings).toBe(base);
		expect(cache.isEnabled("checkout")).toBe(true);
	});

	it("takes newer versions only, and any version of another store", () => {
		const cache = new SettingsCache(base);
		expect(cache.apply(snap("e1", 3, 3))).toBe(true);
		expect(cache.apply(snap("e1", 2, 2))).toBe(false);
		expect(cache.settings.shipping.flat_fee).toBe(3);
		expect(cache.isEnabled("checkout")).toBe(false);
		expect(cache.apply(snap("e1", 4, 4))).toBe(true);
		expect(cache.isEnabled("checkout")).toBe(true);
		expect(cache.apply(snap("e2", 1, 1))).toBe(true);
		expect(cache.settings.shipping.flat_fee).toBe(1);
		expect(isNewer(snap("e2", 1, 1), null)).toBe(true);
	});
});

describe("settingPatch (REPL `settings <path> <value>`)", () => {
	const current = mergeSettings(base, { tax: { rates: { US: 8.25 } } });

	it("sends the whole section with one field set, reading JSON values", () => {
		expect(settingPatch(current, "tax.rates.DE", "19")).toEqual({ tax: { default_rate: 0, rates: { US: 8.25, DE: 19 } } });
		expect(settingPatch(current, "shipping.free_over", "null")).toEqual({ shipping: { flat_fee: 0, free_over: null } });
		expect(settingPatch(current, "store_name", "Corner Shop")).toEqual({ store_name: "Corner Shop" });
		expect(current.tax.rates).toEqual({ US: 8.25 });
	});

	it("refuses unknown settings and prototype keys", () => {
		expect(() => settingPatch(current, "colour", "red")).toThrow(/unknown setting/);
		expect(() => settingPatch(current, "tax.__proto__.x", "1")).toThrow(/not a settings path/);
	});
});
