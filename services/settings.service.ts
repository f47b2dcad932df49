/**
 * The `settings` service: the shop's settings, its feature flags and each customer's preferences. Settings and
 * flags are one stored document (its first version from the environment and fixed defaults); every change is a
 * conditional update on its version, then a `settings.changed` broadcast carrying the new snapshot to every
 * node's cache (services/settings/client.ts). Preferences are one document per customer.
 */
import type { Context } from "moleculer";
import { Errors } from "moleculer";
import { configOf } from "../config/env";
import { DbMixin, DuplicateKeyError, type DbMethods } from "../mixins/db.mixin";
import { DependencyUnavailableError, NotFoundError, ValidationFailedError } from "./common/errors";
import { uuid } from "./common/ids";
import { requireUser, type ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { SETTINGS_CHANGED_EVENT } from "./settings/client";
import { withDemoSettings } from "./settings/demo";
import {
	checkSettings,
	completeFlags,
	defaultSettings,
	isFlagName,
	mergePreferences,
	mergeSettings,
	preferencesFromChannel,
	publicSettings,
	type Flags,
	type NotificationChannelName,
	type Preferences,
	type PublicSettings,
	type Settings,
	type SettingsSnapshot,
} from "./settings/model";
import {
	setFlagParams,
	updatePreferencesParams,
	updateSettingsParams,
	userParams,
	type SetFlagParams,
	type UpdatePreferencesParams,
	type UpdateSettingsParams,
	type UserParams,
} from "./settings/params";

/** The one stored document of settings and flags. */
interface SettingsDoc extends SettingsSnapshot {
	id: string;
}
interface PreferencesDoc extends Preferences {
	id: string;
	updated_at: string;
}

interface SettingsMethods extends DbMethods {
	current(): Promise<SettingsDoc>;
	change(mutate: (doc: SettingsDoc) => Pick<SettingsSnapshot, "settings" | "flags">): Promise<SettingsSnapshot>;
	announce(snapshot: SettingsSnapshot): Promise<void>;
	savedPreferences(userId: string): Promise<Preferences | null>;
	profilePreferences(ctx: Context, userId: string): Promise<Preferences>;
}
type SettingsThis = ServiceThis<object, SettingsMethods>;
type Ctx<P> = Context<P, ShopMeta>;

const DOC_ID = "shop";
/** Attempts of a change that keeps meeting concurrent changes (each retry reads the newer version). */
const MAX_CHANGE_ATTEMPTS = 20;

const SettingsService = defineService<object, SettingsMethods>({
	name: "settings",
	mixins: [DbMixin({ settings: {}, preferences: {} })],

	actions: {
		/** The shop's settings (admin). */
		get: {
			roles: ["admin"],
			async handler(this: SettingsThis, _ctx: Ctx<object>): Promise<Settings> {
				return (await this.current()).settings;
			},
		},

		/** Changes some settings (admin): sections merge field by field, `tax.rates` is replaced; 422 names a bad field. */
		update: {
			audit: { entity: "settings", fixedId: "shop", read: "settings.get" },
			roles: ["admin"],
			params: updateSettingsParams,
			async handler(this: SettingsThis, ctx: Ctx<UpdateSettingsParams>): Promise<Settings> {
				const snap = await this.change(doc => {
					const next = mergeSettings(doc.settings, ctx.params);
					const problem = checkSettings(next);
					if (problem) throw new ValidationFailedError(problem.field, problem.message);
					return { settings: next, flags: doc.flags };
				});
				return snap.settings;
			},
		},

		/** What anyone may read: name, currency, shipping, tax and which features are on. */
		public: {
			async handler(this: SettingsThis, _ctx: Ctx<object>): Promise<PublicSettings> {
				const doc = await this.current();
				return publicSettings(doc.settings, doc.flags);
			},
		},

		/** Whether each feature is on (admin). */
		flags: {
			roles: ["admin"],
			async handler(this: SettingsThis, _ctx: Ctx<object>): Promise<Flags> {
				return (await this.current()).flags;
			},
		},

		/** Switches a feature on or off (admin); 404 for an unknown flag (the known ones: FLAG_NAMES). */
		setFlag: {
			audit: { entity: "flag", id: "name", read: "settings.flags" },
			roles: ["admin"],
			params: setFlagParams,
			async handler(this: SettingsThis, ctx: Ctx<SetFlagParams>): Promise<Flags> {
				const { name, enabled } = ctx.params;
				if (!isFlagName(name)) throw new NotFoundError("flag", name);
				return (await this.change(doc => ({ settings: doc.settings, flags: { ...doc.flags, [name]: enabled } }))).flags;
			},
		},

		/** Settings and flags with their version, from the store: what node caches load. */
		snapshot: {
			visibility: "public",
			async handler(this: SettingsThis, _ctx: Ctx<object>): Promise<SettingsSnapshot> {
				return toSnapshot(await this.current());
			},
		},

		/** The caller's preferences (before they saved any: their profile's channel on, the others off). */
		preferences: {
			auth: "required",
			async handler(this: SettingsThis, ctx: Ctx<object>): Promise<Preferences> {
				const userId = requireUser(ctx.meta).id;
				return (await this.savedPreferences(userId)) ?? (await this.profilePreferences(ctx, userId));
			},
		},

		/** Changes the caller's preferences: channels one by one, language. */
		updatePreferences: {
			auth: "required",
			params: updatePreferencesParams,
			async handler(this: SettingsThis, ctx: Ctx<UpdatePreferencesParams>): Promise<Preferences> {
				const userId = requireUser(ctx.meta).id;
				const coll = this.collection<PreferencesDoc>("preferences");
				const base = (await this.savedPreferences(userId)) ?? (await this.profilePreferences(ctx, userId));
				const next = mergePreferences(base, ctx.params);
				const doc: Omit<PreferencesDoc, "id"> = { ...next, updated_at: new Date().toISOString() };
				// One document per user: a first save that races another is stored by the update that follows.
				if ((await coll.updateById(userId, { $set: doc })) === null) {
					try {
						await coll.insert({ id: userId, ...doc });
					} catch (err) {
						if (!(err instanceof DuplicateKeyError)) throw err;
						await coll.updateById(userId, { $set: doc });
					}
				}
				return next;
			},
		},

		/** A user's saved preferences, or null when they saved none (notifications then use the profile's channel). */
		preferencesOf: {
			visibility: "public",
			params: userParams,
			async handler(this: SettingsThis, ctx: Ctx<UserParams>): Promise<Preferences | null> {
				return this.savedPreferences(ctx.params.user_id);
			},
		},
	},

	methods: {
		/**
		 * The stored document; the first call of a fresh store writes the first start's settings (with the demo's
		 * shipping and tax under SEED_DEMO_DATA). One fixed id: of nodes starting at once one insert wins, and a
		 * restart finds the stored document, so an admin's changes are never reset.
		 */
		async current(this: SettingsThis): Promise<SettingsDoc> {
			const coll = this.collection<SettingsDoc>("settings");
			const found = await coll.findById(DOC_ID);
			if (found) return { ...found, flags: completeFlags(found.flags) };
			const config = configOf(this);
			const first: SettingsDoc = {
				id: DOC_ID,
				epoch: uuid(),
				version: 1,
				settings: config.seedDemoData ? withDemoSettings(defaultSettings(config)) : defaultSettings(config),
				flags: completeFlags(undefined),
				updated_at: new Date().toISOString(),
			};
			try {
				return await coll.insert(first);
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
				return (await coll.findById(DOC_ID)) as SettingsDoc;
			}
		},

		/** One change: a conditional update on the version read (retried on a concurrent change), then the broadcast. */
		async change(this: SettingsThis, mutate: (doc: SettingsDoc) => Pick<SettingsSnapshot, "settings" | "flags">): Promise<SettingsSnapshot> {
			const coll = this.collection<SettingsDoc>("settings");
			for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
				const doc = await this.current();
				const { settings, flags } = mutate(doc);
				const next: SettingsSnapshot = { epoch: doc.epoch, version: doc.version + 1, settings, flags, updated_at: new Date().toISOString() };
				const changed = await coll.updateWhere({ id: DOC_ID, version: doc.version }, { $set: { version: next.version, settings, flags, updated_at: next.updated_at } });
				if (changed === 1) {
					await this.announce(next);
					return next;
				}
			}
			throw new DependencyUnavailableError("settings", "The settings are being changed by too many requests at once; retry");
		},

		/** Sends a snapshot to every node's settings cache. */
		async announce(this: SettingsThis, snapshot: SettingsSnapshot): Promise<void> {
			await this.broker.broadcast(SETTINGS_CHANGED_EVENT, snapshot);
		},

		/** A user's saved preferences, or null. */
		async savedPreferences(this: SettingsThis, userId: string): Promise<Preferences | null> {
			const doc = await this.collection<PreferencesDoc>("preferences").findById(userId);
			return doc ? { notification_channels: { ...doc.notification_channels }, language: doc.language } : null;
		},

		/** Preferences before the user saved any: the profile's channel (email when `users` cannot say). */
		async profilePreferences(this: SettingsThis, ctx: Context, userId: string): Promise<Preferences> {
			try {
				const user = await ctx.call<{ notification_channel?: NotificationChannelName }, { id: string }>("users.get", { id: userId }, { timeout: 2000 });
				return preferencesFromChannel(user.notification_channel);
			} catch (err) {
				if (err instanceof Errors.MoleculerClientError) return preferencesFromChannel(undefined);
				throw new DependencyUnavailableError("users", `cannot read the profile of '${userId}': ${(err as Error).message}`);
			}
		},
	},

	async started(this: SettingsThis) {
		// Writes the first start's document if there is none, and tells caches that started before this service.
		await this.announce(toSnapshot(await this.current()));
	},
});

function toSnapshot(doc: SettingsDoc): SettingsSnapshot {
	return { epoch: doc.epoch, version: doc.version, settings: doc.settings, flags: doc.flags, updated_at: doc.updated_at };
}

export default SettingsService;
