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

/** A fastest-validator error entry, as a custom check reports it. */
interface ParamError {
	type: string;
	field: string;
	actual: unknown;
	message: string;
}

/**
 * An action's params schema whose fields refuse `null` (422 naming the field). fastest-validator lets an
 * `optional` field be null (and `nullable: false` does not change that), so the check runs on the whole object.
 */
export function withoutNulls<P extends Record<string, unknown>>(props: P, strict: boolean | "remove" = "remove") {
	return { $$root: true, ...objectWithoutNulls(props, "", strict) } as const;
}

/** The same for an object nested in params (an inline address): the errors name `<path>.<field>`. */
export function objectWithoutNulls<P extends Record<string, unknown>>(props: P, path: string, strict: boolean | "remove" = "remove") {
	// Required fields refuse null already; an explicit `nullable: true` keeps null allowed.
	const fields = Object.entries(props)
		.filter(([k, rule]) => !k.startsWith("$$") && (rule as { optional?: boolean }).optional === true && (rule as { nullable?: boolean }).nullable !== true)
		.map(([k]) => k);
	return {
		type: "object",
		strict,
		props,
		custom(value: unknown, errors: ParamError[]): unknown {
			if (value && typeof value === "object")
				for (const field of fields)
					if ((value as Record<string, unknown>)[field] === null) {
						const name = path ? `${path}.${field}` : field;
						errors.push({ type: "required", field: name, actual: null, message: `The '${name}' field must not be null.` });
					}
			return value;
		},
	} as const;
}
