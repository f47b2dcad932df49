/**
 * fast-check arbitraries from the JSON Schemas of the OpenAPI document: values the schema accepts, and values it
 * refuses by construction (one field broken in a way the schema names: missing, of another type, out of range,
 * too long, not in the enum, not matching the pattern, unknown where unknown fields are refused).
 */
import fc from "fast-check";

export type Schema = Record<string, unknown>;

/** Strings the test knows to be real (ids it created): a valid string is often one of them, to get past lookups. */
export interface Known {
	strings: string[];
}

const SMALL = 3;
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** A RegExp for a schema's pattern (with its flags when the document names them). */
function regexOf(s: Schema): RegExp | undefined {
	return typeof s.pattern === "string" ? new RegExp(s.pattern, (s["x-pattern-flags"] as string | undefined)?.replace(/[gy]/g, "")) : undefined;
}

/** Whether a string meets a string schema's own keywords (lengths after trimming where the validator trims). */
export function stringFits(s: Schema, value: string): boolean {
	const v = s["x-trim"] ? value.trim() : value;
	if (s["x-trim"] && v !== value) return false;
	if (num(s.minLength) !== undefined && v.length < (s.minLength as number)) return false;
	if (num(s.maxLength) !== undefined && v.length > (s.maxLength as number)) return false;
	const re = regexOf(s);
	if (re && !re.test(v)) return false;
	if (Array.isArray(s.enum) && !s.enum.includes(v)) return false;
	return true;
}

function stringArb(s: Schema, known: Known): fc.Arbitrary<string> {
	if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as string[]));
	const max = Math.min(num(s.maxLength) ?? 24, Math.max(num(s.minLength) ?? 0, 24));
	const min = num(s.minLength) ?? 0;
	let base: fc.Arbitrary<string>;
	if (s.format === "email") base = fc.emailAddress().map(e => e.toLowerCase());
	else if (s.format === "uri") base = fc.constantFrom("https://example.com/p.jpg", "http://shop.example.org/a/b?c=1");
	else if (typeof s.pattern === "string") base = fc.stringMatching(regexOf(s) as RegExp);
	else base = fc.string({ minLength: min, maxLength: max, unit: "grapheme-ascii" });
	const generated = base.filter(v => stringFits(s, v));
	const real = known.strings.filter(v => stringFits(s, v));
	return real.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...real), weight: 2 }, { arbitrary: generated, weight: 1 }) : generated;
}

function numberArb(s: Schema): fc.Arbitrary<number> {
	if (num(s.const) !== undefined) return fc.constant(s.const as number);
	const integer = s.type === "integer";
	let min = num(s.minimum) ?? -1e6;
	let max = num(s.maximum) ?? 1e6;
	if (num(s.exclusiveMinimum) !== undefined) min = Math.max(min, (s.exclusiveMinimum as number) + (integer ? 1 : 1e-6));
	if (num(s.exclusiveMaximum) !== undefined) max = Math.min(max, (s.exclusiveMaximum as number) - (integer ? 1 : 1e-6));
	// Mostly small values near the lower bound (quantities, pages), sometimes anywhere in range.
	const near = Math.min(max, min + 5);
	if (integer) return fc.oneof({ arbitrary: fc.integer({ min: Math.ceil(min), max: Math.floor(near) }), weight: 3 }, fc.integer({ min: Math.ceil(min), max: Math.floor(max) }));
	return fc.oneof({ arbitrary: fc.integer({ min: Math.ceil(min), max: Math.floor(Math.max(Math.ceil(min), near)) }), weight: 3 }, fc.double({ min, max, noNaN: true, noDefaultInfinity: true }));
}

/** Values the schema accepts. */
export function validArb(schema: Schema, known: Known): fc.Arbitrary<unknown> {
	const s = schema;
	if (Array.isArray(s.anyOf)) return fc.oneof(...(s.anyOf as Schema[]).map(x => validArb(x, known)));
	if (s.const !== undefined) return fc.constant(s.const);
	if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
	switch (s.type) {
		case "string":
			return stringArb(s, known);
		case "integer":
		case "number":
			return numberArb(s);
		case "boolean":
			return fc.boolean();
		case "null":
			return fc.constant(null);
		case "array": {
			const items = s.items && typeof s.items === "object" ? validArb(s.items as Schema, known) : fc.string({ maxLength: 5 });
			const minLength = num(s.minItems) ?? 0;
			return fc.array(items, { minLength, maxLength: Math.max(minLength, Math.min(num(s.maxItems) ?? SMALL, SMALL)) });
		}
		case "object":
			return objectArb(s, known);
		default:
			return fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean());
	}
}

function objectArb(s: Schema, known: Known): fc.Arbitrary<Record<string, unknown>> {
	const props = (s.properties ?? {}) as Record<string, Schema>;
	if (Object.keys(props).length === 0 && s.additionalProperties && typeof s.additionalProperties === "object") {
		const keys = s.propertyNames ? (validArb(s.propertyNames as Schema, known) as fc.Arbitrary<string>) : fc.string({ minLength: 1, maxLength: 8 });
		return fc.dictionary(keys, validArb(s.additionalProperties as Schema, known), { maxKeys: SMALL });
	}
	const fields = Object.fromEntries(Object.entries(props).map(([k, p]) => [k, validArb(p, known)]));
	return fc.record(fields, { requiredKeys: ((s.required ?? []) as string[]).filter(k => k in fields) }) as fc.Arbitrary<Record<string, unknown>>;
}

/** Values of another kind than every branch of the schema allows, or out of its bounds (never null for an optional field: the validator lets optional fields be null). */
export function wrongValues(schema: Schema): unknown[] {
	const s = schema;
	if (Array.isArray(s.anyOf)) {
		// Wrong for every branch: a kind none of them takes.
		const types = new Set((s.anyOf as Schema[]).map(x => x.type));
		return [{ nested: true }, [1, 2], 12345, true].filter(v => !types.has(kind(v)) && !(typeof v === "number" && types.has("integer")));
	}
	if (Array.isArray(s.enum)) return ["zz-not-in-enum", 12345];
	switch (s.type) {
		case "string": {
			const out: unknown[] = [12345, { nested: true }, [1], true];
			if (num(s.maxLength) !== undefined) out.push("x".repeat((s.maxLength as number) + 1));
			if (num(s.minLength) !== undefined && (s.minLength as number) > 0) out.push("");
			if (s.format === "email") out.push("not-an-email");
			if (typeof s.pattern === "string" && !regexOf(s)?.test("!! no match !!")) out.push("!! no match !!");
			return out;
		}
		case "integer":
		case "number": {
			// With `convert` the validator reads "7" and [7] as 7.
			const out: unknown[] = s["x-convert"] ? [{ nested: true }, "not-a-number"] : [{ nested: true }, [1], "7"];
			if (num(s.maximum) !== undefined) out.push((s.maximum as number) + 1);
			if (num(s.minimum) !== undefined) out.push((s.minimum as number) - 1);
			if (num(s.exclusiveMinimum) !== undefined) out.push(s.exclusiveMinimum);
			if (s.type === "integer") out.push(1.5);
			return out;
		}
		case "boolean":
			return [s["x-convert"] ? "maybe" : "true", { nested: true }, 12345];
		case "array": {
			// With `convert` the validator wraps a single value in an array.
			const out: unknown[] = s["x-convert"] ? [] : ["not-an-array", { nested: true }];
			if (num(s.maxItems) !== undefined) out.push(Array.from({ length: (s.maxItems as number) + 1 }, () => "x"));
			return out;
		}
		case "object":
			return ["not-an-object", 12345, [1]];
		default:
			return [];
	}
}

const kind = (v: unknown): string => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v === "number" ? "number" : typeof v);

/** An object body the schema refuses: a valid one with one required field left out, one field made wrong, or an unknown field where they are refused. */
export function invalidObjectArb(schema: Schema, known: Known): fc.Arbitrary<Record<string, unknown>> | null {
	const props = (schema.properties ?? {}) as Record<string, Schema>;
	const required = (schema.required ?? []) as string[];
	const options: Array<fc.Arbitrary<Record<string, unknown>>> = [];
	const valid = objectArb(schema, known);
	for (const field of required) options.push(valid.map(v => omit(v, field)));
	for (const [field, p] of Object.entries(props)) {
		const wrong = wrongValues(p);
		if (wrong.length > 0) options.push(fc.tuple(valid, fc.constantFrom(...wrong)).map(([v, w]) => ({ ...v, [field]: w })));
		if (required.includes(field)) options.push(valid.map(v => ({ ...v, [field]: null })));
	}
	if (schema.additionalProperties === false) options.push(valid.map(v => ({ ...v, zz_unknown_field: 1 })));
	return options.length > 0 ? fc.oneof(...options) : null;
}

function omit(v: Record<string, unknown>, field: string): Record<string, unknown> {
	const out = { ...v };
	delete out[field];
	return out;
}
