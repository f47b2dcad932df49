/**
 * Typing helpers for service schemas: `this` in handlers is the service with its own vars and methods.
 */
import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";

/** Settings with free-form keys (moleculer-web and service settings). */
export type Settings = ServiceSettingSchema & Record<string, unknown>;

/** A service schema whose handlers see `this` as Service & TVars & TMethods. */
export type TypedSchema<TVars extends object = object, TMethods extends object = object> = ServiceSchema<Settings, TMethods, TVars>;

/** What `this` is inside a TypedSchema's handlers. */
export type ServiceThis<TVars extends object = object, TMethods extends object = object> = Service<Settings> & TVars & TMethods;

/** Checks a schema against its own `this` type and hands it to Moleculer as a plain ServiceSchema. */
export function defineService<TVars extends object = object, TMethods extends object = object>(
	schema: TypedSchema<TVars, TMethods>,
): ServiceSchema {
	return schema as unknown as ServiceSchema;
}
