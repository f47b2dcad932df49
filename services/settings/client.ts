/**
 * What other services may use of `settings`: the types of settings, feature flags and preferences, and
 * `SettingsCacheMixin`, which gives a service on any node `this.settingsCache`, a local copy of the current settings
 * and flags. The copy loads from the settings service at start, is replaced by every `settings.changed` broadcast
 * (a change reaches every node within a second) and is loaded again from the store 3 s after the first load (a
 * node that just joined is not known to the others for about a second) and then every half minute in case a
 * broadcast was missed. Until the first load it holds the first start's defaults (from this node's environment).
 *
 * Reading: `this.settingsCache.settings.shipping`, `this.settingsCache.isEnabled("vouchers")`,
 * `taxRateFor(this.settingsCache.settings, country)`, `shippingCents(this.settingsCache.settings)`.
 * Marking a route as belonging to a feature: `feature: "vouchers"` on the action (the gateway answers 503
 * FEATURE_DISABLED with Retry-After while that flag is off).
 */
import type { Context, ServiceBroker, ServiceSchema } from "moleculer";
import { configOf } from "../../config/env";
import { completeFlags, defaultSettings, isNewer, type Flags, type FlagName, type Preferences, type Settings, type SettingsSnapshot } from "./model";

export {
	CHANNEL_NAMES,
	channelsToUse,
	FLAG_NAMES,
	isFlagName,
	shippingCents,
	taxRateFor,
	type FlagName,
	type Flags,
	type MarketplaceSettings,
	type NotificationChannelName,
	type Preferences,
	type PublicSettings,
	type Settings,
	type SettingsSnapshot,
	type ShippingCents,
	type ShippingSettings,
	type TaxSettings,
} from "./model";

/** The broadcast that carries a new SettingsSnapshot to every node after each change (and when the service starts). */
export const SETTINGS_CHANGED_EVENT = "settings.changed";

/** How often a cache asks the store again although no broadcast came (a missed broadcast heals within this). */
export const SETTINGS_REFRESH_MS = 30_000;
/** How often a cache that could not load yet tries again. */
export const SETTINGS_RETRY_MS = 1_000;
/**
 * The second load, this long after the first: for about a second after a node joins, the other nodes do not know
 * its subscription yet, so a change made then reaches it only by this load.
 */
export const SETTINGS_CATCH_UP_MS = 3_000;

/** The current settings and flags of this node, as last heard from the settings service. */
export class SettingsCache {
	private snapshot: SettingsSnapshot | null = null;

	constructor(private readonly defaults: Settings) {}

	/** The current settings (the first start's defaults until loaded). Treat as read-only. */
	get settings(): Settings {
		return this.snapshot?.settings ?? this.defaults;
	}

	/** Whether each feature is on (all on until loaded). */
	get flags(): Flags {
		return this.snapshot?.flags ?? completeFlags(undefined);
	}

	/** Whether a feature is on. */
	isEnabled(name: FlagName): boolean {
		return this.flags[name];
	}

	/** Whether the cache has heard from the settings service. */
	get loaded(): boolean {
		return this.snapshot !== null;
	}

	/** The version held (0 before the first load). */
	get version(): number {
		return this.snapshot?.version ?? 0;
	}

	/** Takes a snapshot when it is newer than the one held; whether it did. */
	apply(next: SettingsSnapshot): boolean {
		if (!isNewer(next, this.snapshot)) return false;
		this.snapshot = { ...next, flags: completeFlags(next.flags) };
		return true;
	}

	/** Loads the current snapshot from the store (through `settings.snapshot`); whether it could. */
	async refresh(broker: ServiceBroker): Promise<boolean> {
		try {
			if (!isCallable(broker, "settings.snapshot")) return false;
			this.apply(await broker.call<SettingsSnapshot, object>("settings.snapshot", {}, { timeout: 2000, retries: 0 }));
			return true;
		} catch {
			return false;
		}
	}
}

/** Whether some node offers the action now (the registry's public endpoint list; undefined when none has it). */
function isCallable(broker: ServiceBroker, action: string): boolean {
	return broker.registry.getActionEndpoints(action)?.hasAvailable() === true;
}

/** What the mixin adds to a service. */
export interface SettingsCacheVars {
	settingsCache: SettingsCache;
	$settingsTimer: NodeJS.Timeout | null;
}

type CacheThis = SettingsCacheVars & { broker: ServiceBroker; name: string; settings: object };

/** Gives the service `this.settingsCache`, kept current by `settings.changed` and a periodic refresh. */
export function SettingsCacheMixin(): Partial<ServiceSchema> {
	const schema = {
		events: {
			[SETTINGS_CHANGED_EVENT]: {
				handler(this: CacheThis, ctx: Context<SettingsSnapshot>): void {
					this.settingsCache.apply(ctx.params);
				},
			},
		},
		created(this: CacheThis) {
			this.settingsCache = new SettingsCache(defaultSettings(configOf(this)));
			this.$settingsTimer = null;
		},
		started(this: CacheThis) {
			// Not awaited: a node whose settings service is elsewhere (or not started yet) starts on the defaults.
			let loads = 0;
			const tick = async (): Promise<void> => {
				const ok = await this.settingsCache.refresh(this.broker);
				if (this.$settingsTimer === null) return;
				if (ok) loads++;
				const next = !ok ? SETTINGS_RETRY_MS : loads === 1 ? SETTINGS_CATCH_UP_MS : SETTINGS_REFRESH_MS;
				this.$settingsTimer = setTimeout(() => void tick(), next);
				this.$settingsTimer.unref();
			};
			this.$settingsTimer = setTimeout(() => void tick(), 0);
			this.$settingsTimer.unref();
		},
		stopped(this: CacheThis) {
			if (this.$settingsTimer) clearTimeout(this.$settingsTimer);
			this.$settingsTimer = null;
		},
	};
	return schema as unknown as Partial<ServiceSchema>;
}

/**
 * A customer's saved preferences, or null when they never saved any or no node runs the settings service (then
 * their profile's notification_channel applies). Errors of a settings service that fails are thrown (callers retry
 * like any dependency failure).
 */
export async function fetchPreferences(ctx: Context, userId: string): Promise<Preferences | null> {
	if (!isCallable(ctx.broker, "settings.preferencesOf")) return null;
	return ctx.call<Preferences | null, { user_id: string }>("settings.preferencesOf", { user_id: userId });
}

/** The current settings straight from the store (one call), for a caller without the cache. */
export async function fetchSettings(ctx: Context): Promise<Settings> {
	return (await ctx.call<SettingsSnapshot, object>("settings.snapshot", {})).settings;
}
