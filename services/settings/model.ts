/**
 * The shop's settings, feature flags and customers' preferences as data: their types, the defaults of a first
 * start, the checks a change must pass and how a partial change merges into what is stored. Pure code.
 */

/** Shipping charged per order, in the currency's decimal units. */
export interface ShippingSettings {
	/** The fee of an order (0: shipping is always free). */
	flat_fee: number;
	/** Orders whose discounted subtotal is at least this ship free; null: never free by amount. */
	free_over: number | null;
}

/** Tax as percents (8.25 means 8.25 %). */
export interface TaxSettings {
	/** The rate of a shipping country without a rate of its own. */
	default_rate: number;
	/** Rates by country, keys upper case as stored (`US`, `DE`); matched without regard to letter case. */
	rates: Record<string, number>;
}

export interface MarketplaceSettings {
	/** The shop's share of a seller's sales, percent. */
	commission_percent: number;
}

/** The shop's settings (admin `GET|PUT /admin/settings`). Money in decimal units, as everywhere in the API. */
export interface Settings {
	store_name: string;
	/** ISO 4217 code, e.g. USD. */
	currency: string;
	shipping: ShippingSettings;
	tax: TaxSettings;
	/** inventory.low is announced when a product's available units fall below this. */
	low_stock_threshold: number;
	marketplace: MarketplaceSettings;
}

/** The features that can be switched off. */
export const FLAG_NAMES = ["checkout", "reviews", "vouchers", "marketplace"] as const;
export type FlagName = (typeof FLAG_NAMES)[number];
/** Whether each feature is on. */
export type Flags = Record<FlagName, boolean>;

/** What anyone may read (`GET /settings`): no stock threshold, no commission. */
export interface PublicSettings {
	store_name: string;
	currency: string;
	shipping: ShippingSettings;
	tax: TaxSettings;
	/** Which features are on, so a storefront can hide what is switched off. */
	features: Flags;
}

export type NotificationChannelName = "email" | "sms" | "push";
export const CHANNEL_NAMES: readonly NotificationChannelName[] = ["email", "sms", "push"];

/** A customer's preferences (`GET|PUT /account/preferences`). */
export interface Preferences {
	notification_channels: Record<NotificationChannelName, boolean>;
	/** A language tag such as `en` or `de-CH`. */
	language: string;
}

/** Settings and flags as one versioned value: what the store holds, the cache keeps and `settings.changed` carries. */
export interface SettingsSnapshot {
	/** Random id of the stored document: a store started afresh restarts `version`, so caches compare both. */
	epoch: string;
	/** Raised by one on every change. */
	version: number;
	settings: Settings;
	flags: Flags;
	updated_at: string;
}

/** What a first start takes from the environment (LOW_STOCK_THRESHOLD); everything else has a fixed default. */
export interface SettingsEnvDefaults {
	lowStockThreshold: number;
}

/** The settings of a first start. */
export function defaultSettings(env: SettingsEnvDefaults): Settings {
	return {
		store_name: "ShopFlow",
		currency: "USD",
		shipping: { flat_fee: 0, free_over: null },
		tax: { default_rate: 0, rates: {} },
		low_stock_threshold: env.lowStockThreshold,
		marketplace: { commission_percent: 10 },
	};
}

/** Every feature on. */
export function defaultFlags(): Flags {
	return { checkout: true, reviews: true, vouchers: true, marketplace: true };
}

export function defaultPreferences(): Preferences {
	return { notification_channels: { email: true, sms: false, push: false }, language: "en" };
}

/** Whether a name is a known feature flag. */
export function isFlagName(name: string): name is FlagName {
	return (FLAG_NAMES as readonly string[]).includes(name);
}

/** A partial change of the settings: sections merge field by field; `tax.rates`, when given, replaces the rates. */
export interface SettingsPatch {
	store_name?: string;
	currency?: string;
	shipping?: Partial<ShippingSettings>;
	tax?: Partial<TaxSettings>;
	low_stock_threshold?: number;
	marketplace?: Partial<MarketplaceSettings>;
}

/** A field that is not acceptable, named by its path (`tax.rates.US`). */
export interface SettingsProblem {
	field: string;
	message: string;
}

/** The settings with a change applied (the input is not changed). */
export function mergeSettings(current: Settings, patch: SettingsPatch): Settings {
	return {
		store_name: patch.store_name ?? current.store_name,
		currency: patch.currency ?? current.currency,
		shipping: { ...current.shipping, ...patch.shipping },
		tax: {
			default_rate: patch.tax?.default_rate ?? current.tax.default_rate,
			rates: patch.tax?.rates ? normaliseRates(patch.tax.rates) : { ...current.tax.rates },
		},
		low_stock_threshold: patch.low_stock_threshold ?? current.low_stock_threshold,
		marketplace: { ...current.marketplace, ...patch.marketplace },
	};
}

/** Country keys upper case and trimmed. */
export function normaliseRates(rates: Record<string, number>): Record<string, number> {
	return Object.fromEntries(Object.entries(rates).map(([k, v]) => [k.trim().toUpperCase(), v]));
}

/** The largest amount of a fee or threshold, in decimal units (what one payment can charge is far below). */
export const MAX_AMOUNT = 1_000_000;
/** Most countries with a rate of their own. */
export const MAX_TAX_RATES = 300;

/** The first problem of settings after a merge, or null: amounts with two decimals at most, percents 0-100. */
export function checkSettings(s: Settings): SettingsProblem | null {
	if (!/^[A-Z]{3}$/.test(s.currency)) return { field: "currency", message: "must be a three-letter ISO 4217 code such as USD" };
	const amount = checkAmount(s.shipping.flat_fee);
	if (amount) return { field: "shipping.flat_fee", message: amount };
	if (s.shipping.free_over !== null) {
		const over = checkAmount(s.shipping.free_over);
		if (over) return { field: "shipping.free_over", message: over };
	}
	const rate = checkPercent(s.tax.default_rate);
	if (rate) return { field: "tax.default_rate", message: rate };
	const countries = Object.keys(s.tax.rates);
	if (countries.length > MAX_TAX_RATES) return { field: "tax.rates", message: `holds at most ${MAX_TAX_RATES} countries` };
	for (const country of countries) {
		if (!/^[A-Z][A-Z '-]{1,55}$/.test(country)) return { field: `tax.rates.${country}`, message: "must be a country code or name (2 to 56 letters)" };
		const r = checkPercent(s.tax.rates[country]);
		if (r) return { field: `tax.rates.${country}`, message: r };
	}
	const commission = checkPercent(s.marketplace.commission_percent);
	if (commission) return { field: "marketplace.commission_percent", message: commission };
	return null;
}

function checkAmount(v: number): string | null {
	if (!Number.isFinite(v) || v < 0 || v > MAX_AMOUNT) return `must be an amount between 0 and ${MAX_AMOUNT}`;
	if (Math.abs(Math.round(v * 100) - v * 100) > 1e-6) return "must have at most two decimals";
	return null;
}

function checkPercent(v: unknown): string | null {
	if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 100) return "must be a percent between 0 and 100";
	if (Math.abs(Math.round(v * 1000) - v * 1000) > 1e-6) return "must have at most three decimals";
	return null;
}

/** What anyone may read of the settings. */
export function publicSettings(s: Settings, flags: Flags): PublicSettings {
	return { store_name: s.store_name, currency: s.currency, shipping: { ...s.shipping }, tax: { default_rate: s.tax.default_rate, rates: { ...s.tax.rates } }, features: { ...flags } };
}

/** The tax rate (percent) of a shipping country: its own rate, else the default. */
export function taxRateFor(s: Settings, country: string | null | undefined): number {
	const key = country?.trim().toUpperCase();
	if (key && Object.prototype.hasOwnProperty.call(s.tax.rates, key)) return s.tax.rates[key];
	return s.tax.default_rate;
}

/** Shipping rules in integer cents, for bill arithmetic. */
export interface ShippingCents {
	flat_fee_cents: number;
	/** null: never free by amount. */
	free_over_cents: number | null;
}

/** The shipping settings in integer cents. */
export function shippingCents(s: Settings): ShippingCents {
	return {
		flat_fee_cents: Math.round(s.shipping.flat_fee * 100),
		free_over_cents: s.shipping.free_over === null ? null : Math.round(s.shipping.free_over * 100),
	};
}

/** Whether a snapshot should replace the one held: another store (epoch) or a newer version of the same. */
export function isNewer(next: SettingsSnapshot, held: SettingsSnapshot | null): boolean {
	return held === null || next.epoch !== held.epoch || next.version > held.version;
}

/** Stored flags completed with defaults for flags added since (a new flag starts on). */
export function completeFlags(stored: Partial<Record<string, boolean>> | undefined): Flags {
	const flags = defaultFlags();
	for (const name of FLAG_NAMES) if (typeof stored?.[name] === "boolean") flags[name] = stored[name] as boolean;
	return flags;
}

/** A customer's preferences before they saved any: their profile's one channel on, the others off. */
export function preferencesFromChannel(channel: NotificationChannelName | undefined): Preferences {
	const prefs = defaultPreferences();
	if (channel) prefs.notification_channels = { email: channel === "email", sms: channel === "sms", push: channel === "push" };
	return prefs;
}

/** Preferences with a change applied: channels merge one by one. */
export function mergePreferences(
	current: Preferences,
	patch: { notification_channels?: Partial<Record<NotificationChannelName, boolean>>; language?: string },
): Preferences {
	return {
		notification_channels: { ...current.notification_channels, ...patch.notification_channels },
		language: patch.language ?? current.language,
	};
}

/** The channels a notification goes out on: the enabled ones, the profile's own channel first when it is enabled. */
export function channelsToUse(prefs: Preferences, profileChannel?: NotificationChannelName): NotificationChannelName[] {
	const on = CHANNEL_NAMES.filter(c => prefs.notification_channels[c]);
	return profileChannel && on.includes(profileChannel) ? [profileChannel, ...on.filter(c => c !== profileChannel)] : on;
}
