/**
 * Feature flags at the gateway: an action declares the feature it belongs to (`feature: "checkout"` beside its
 * `auth` and `roles`), and while an admin has that feature switched off the gateway answers its routes with 503
 * FEATURE_DISABLED and Retry-After, before any service is called. Routes of other features go on. The flags come
 * from this node's settings cache (services/settings/client.ts), which hears a change within a second.
 */
import type { ActionSchema } from "moleculer";
import { FeatureDisabledError } from "../common/errors";
import type { FlagName, SettingsCache } from "../settings/client";

/** The features an action may declare (config/moleculer-types.d.ts) are exactly the settings' flags: tsc fails otherwise. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const DECLARABLE_FEATURES_ARE_FLAGS: Same<NonNullable<ActionSchema["feature"]>, FlagName> = true;
void DECLARABLE_FEATURES_ARE_FLAGS;

/** What a client is told to wait before it asks again (an admin's switch, not a fault that heals by itself). */
export const FEATURE_RETRY_AFTER_SECONDS = 60;

/** Throws FEATURE_DISABLED when the action belongs to a feature that is switched off. */
export function checkFeature(feature: FlagName | undefined, cache: Pick<SettingsCache, "isEnabled">): void {
	if (feature !== undefined && !cache.isEnabled(feature)) throw new FeatureDisabledError(feature, FEATURE_RETRY_AFTER_SECONDS);
}
