/**
 * Module augmentation: moleculer 0.15 typings have no index signatures, so the per-action settings that
 * Moleculer and moleculer-db honour at run time are declared here.
 */
import "moleculer";

declare module "moleculer" {
	interface ActionSchema {
		/** Per-action request timeout in ms (Moleculer's Timeout middleware reads it). */
		timeout?: number;
		/** Roles allowed to call the action through the gateway; unset means public. */
		auth?: "required" | "optional" | false;
		roles?: string[];
		/**
		 * The feature flag the action belongs to (FLAG_NAMES of services/settings/model.ts, checked equal by
		 * services/api/features.ts): while it is off the gateway answers 503 FEATURE_DISABLED.
		 */
		feature?: "checkout" | "reviews" | "vouchers" | "marketplace";
		/**
		 * What the action changes belongs to a shop: a caller who neither owns that shop nor is an admin gets 403
		 * NOT_SHOP_OWNER (checked by the action; declared here so that the API description lists the 403).
		 */
		owned?: "shop";
		rest?: string | string[] | Record<string, unknown>;
		/** Audited write: every successful call leaves an entry in the audit log (config/middlewares/audit.ts). */
		audit?: import("../services/common/audit").AuditSpec;
	}
	interface ServiceSchema {
		adapter?: unknown;
		collection?: string;
	}
}
