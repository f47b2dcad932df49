/**
 * fastest-validator rules as JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1). Pure: it reads the `params`
 * of an action as the registry holds them, which for a remote action is its JSON copy (a RegExp `pattern` arrives as
 * `{}` and a `custom` function not at all), so anything it does not understand becomes the schema that allows all.
 * It describes what an action accepts, never more: where the validator converts or trims, the schema says so in
 * `x-convert`/`x-trim` and keeps the type of the converted value.
 */

export type JsonSchema = Record<string, unknown>;

/** One rule: an object with `type`, a shorthand string ("string|min:3|optional"), or an array (any of). */
export type Rule = string | Rule[] | { [key: string]: unknown };

/** The keys of a params object that are validator options, not fields. */
export const isOptionKey = (key: string): boolean => key.startsWith("$$");

interface RuleObject {
	type?: string;
	optional?: boolean;
	nullable?: boolean;
	default?: unknown;
	[key: string]: unknown;
}

/** A shorthand string ("number|integer|min:1|optional", "string[]") as the rule object it stands for. */
export function parseShorthand(text: string): RuleObject {
	const [head, ...rest] = text.split("|").map(s => s.trim());
	const rule: RuleObject = {};
	for (const part of rest) {
		const i = part.indexOf(":");
		if (i < 0) rule[part] = true;
		else rule[part.slice(0, i)] = shorthandValue(part.slice(i + 1));
	}
	if (head.endsWith("[]")) return { type: "array", items: head.slice(0, -2), optional: rule.optional };
	return { ...rule, type: head };
}

function shorthandValue(v: string): unknown {
	if (v === "true") return true;
	if (v === "false") return false;
	const n = Number(v);
	return v !== "" && Number.isFinite(n) ? n : v;
}

/** A rule in its object form (a multi-rule stays an array). */
export function normalizeRule(rule: Rule): RuleObject | Rule[] {
	if (typeof rule === "string") return parseShorthand(rule);
	if (Array.isArray(rule)) return rule;
	if (rule && typeof rule === "object") {
		// `{ $$type: "object|optional", a: ..., b: ... }`: an object rule whose other keys are its properties.
		if (typeof rule.$$type === "string") {
			const head = parseShorthand(rule.$$type);
			const props = Object.fromEntries(Object.entries(rule).filter(([k]) => k !== "$$type"));
			return { ...head, props };
		}
		return rule as RuleObject;
	}
	return {};
}

/** Whether a field may be left out: optional, or filled by a default. */
export function isOptional(rule: Rule): boolean {
	const r = normalizeRule(rule);
	if (Array.isArray(r)) return r.length > 0 && r.every(isOptional);
	return r.optional === true || r.default !== undefined;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** A RegExp (local action) or a string (a shorthand) as JSON Schema's pattern; a pattern lost in transit gives none. */
function patternOf(p: unknown): { pattern?: string; "x-pattern-flags"?: string } {
	if (p instanceof RegExp) return p.flags ? { pattern: p.source, "x-pattern-flags": p.flags } : { pattern: p.source };
	if (typeof p === "string" && p !== "") return { pattern: p };
	return {};
}

/** The default, when it is a plain JSON value (a function default is computed per call and not shown). */
function defaultOf(rule: RuleObject): JsonSchema {
	const d = rule.default;
	if (d === undefined || typeof d === "function") return {};
	try {
		return { default: JSON.parse(JSON.stringify(d)) as unknown };
	} catch {
		return {};
	}
}

function stringSchema(r: RuleObject): JsonSchema {
	const s: JsonSchema = { type: "string" };
	if (num(r.min) !== undefined) s.minLength = r.min;
	if (num(r.max) !== undefined) s.maxLength = r.max;
	if (num(r.length) !== undefined) s.minLength = s.maxLength = r.length;
	if (r.empty === false && s.minLength === undefined) s.minLength = 1;
	Object.assign(s, patternOf(r.pattern));
	if (Array.isArray(r.enum)) s.enum = r.enum;
	if (r.numeric === true) s.pattern ??= "^-?[0-9]+(\\.[0-9]+)?$";
	if (r.alpha === true) s.pattern ??= "^[a-zA-Z]+$";
	if (r.alphanum === true) s.pattern ??= "^[a-zA-Z0-9]+$";
	if (r.alphadash === true) s.pattern ??= "^[a-zA-Z0-9_-]+$";
	if (r.hex === true) s.pattern ??= "^([0-9a-fA-F]{2})+$";
	if (r.base64 === true) s.contentEncoding = "base64";
	if (r.trim === true || r.trimLeft === true || r.trimRight === true) s["x-trim"] = true;
	return s;
}

function numberSchema(r: RuleObject): JsonSchema {
	const s: JsonSchema = { type: r.integer === true ? "integer" : "number" };
	if (num(r.min) !== undefined) s.minimum = r.min;
	if (num(r.max) !== undefined) s.maximum = r.max;
	if (r.positive === true) s.exclusiveMinimum = 0;
	if (r.negative === true) s.exclusiveMaximum = 0;
	if (num(r.equal) !== undefined) s.const = r.equal;
	if (num(r.notEqual) !== undefined) s.not = { const: r.notEqual };
	return s;
}

function arraySchema(r: RuleObject): JsonSchema {
	const s: JsonSchema = { type: "array" };
	if (r.items !== undefined) s.items = toJsonSchema(r.items as Rule);
	if (num(r.min) !== undefined) s.minItems = r.min;
	if (num(r.max) !== undefined) s.maxItems = r.max;
	if (num(r.length) !== undefined) s.minItems = s.maxItems = r.length;
	if (r.empty === false && s.minItems === undefined) s.minItems = 1;
	if (r.unique === true) s.uniqueItems = true;
	if (Array.isArray(r.enum)) s.items = { enum: r.enum };
	return s;
}

/** An object rule: its props, which of them are required, and whether unknown fields are refused (`strict: true`). */
export function objectSchema(props: Record<string, Rule> | undefined, strict: unknown): JsonSchema {
	const s: JsonSchema = { type: "object" };
	if (props) {
		const fields = Object.entries(props).filter(([k]) => !isOptionKey(k));
		s.properties = Object.fromEntries(fields.map(([k, rule]) => [k, toJsonSchema(rule)]));
		const required = fields.filter(([, rule]) => !isOptional(rule)).map(([k]) => k);
		if (required.length > 0) s.required = required;
	}
	// "remove" drops unknown fields and accepts the rest; only `true` refuses them.
	if (strict === true) s.additionalProperties = false;
	return s;
}

/** The JSON Schema of one rule. */
export function toJsonSchema(rule: Rule): JsonSchema {
	const r = normalizeRule(rule);
	if (Array.isArray(r)) return { anyOf: r.map(toJsonSchema) };
	const s = typedSchema(r);
	Object.assign(s, defaultOf(r));
	if (r.convert === true) s["x-convert"] = true;
	if (r.nullable === true) return { anyOf: [s, { type: "null" }] };
	return s;
}

function typedSchema(r: RuleObject): JsonSchema {
	switch (r.type) {
		case "string":
			return stringSchema(r);
		case "number":
			return numberSchema(r);
		case "boolean":
			return { type: "boolean" };
		case "email":
			return { ...stringSchema({ ...r, pattern: undefined }), format: "email" };
		case "url":
			return { ...stringSchema({ ...r, pattern: undefined }), format: "uri" };
		case "uuid":
			return { type: "string", format: "uuid" };
		case "objectID":
			return { type: "string", pattern: "^[0-9a-fA-F]{24}$" };
		case "mac":
			return { type: "string", "x-format": "mac" };
		case "luhn":
		case "currency":
			return { type: "string", "x-format": r.type };
		case "date":
			return { type: "string", format: "date-time" };
		case "enum":
			return Array.isArray(r.values) ? { enum: r.values } : {};
		case "equal":
			return r.value === undefined ? {} : { const: r.value };
		case "array":
			return arraySchema(r);
		case "tuple":
			return Array.isArray(r.items) ? { type: "array", prefixItems: (r.items as Rule[]).map(toJsonSchema), items: false } : { type: "array" };
		case "object": {
			const s = objectSchema(r.props as Record<string, Rule> | undefined ?? r.properties as Record<string, Rule> | undefined, r.strict);
			if (num(r.minProps) !== undefined) s.minProperties = r.minProps;
			if (num(r.maxProps) !== undefined) s.maxProperties = r.maxProps;
			return s;
		}
		case "record": {
			const s: JsonSchema = { type: "object" };
			if (r.key !== undefined) s.propertyNames = toJsonSchema(r.key as Rule);
			if (r.value !== undefined) s.additionalProperties = toJsonSchema(r.value as Rule);
			return s;
		}
		case "multi":
			return Array.isArray(r.rules) ? { anyOf: (r.rules as Rule[]).map(toJsonSchema) } : {};
		case "forbidden":
			return { not: {} };
		default:
			// any, custom, class, function, or a rule type this converter does not know: nothing is promised.
			return r.type && r.type !== "any" ? { "x-validator-type": r.type } : {};
	}
}

/**
 * The schema of an action's whole `params`: an object of fields, or with `$$root: true` the one rule it is
 * (as `withoutNulls` makes). `$$strict: true` refuses unknown fields.
 */
export function paramsSchema(params: unknown): JsonSchema {
	if (!params || typeof params !== "object" || Array.isArray(params)) return { type: "object" };
	const p = params as Record<string, unknown>;
	if (p.$$root === true) {
		const rest = Object.fromEntries(Object.entries(p).filter(([k]) => k !== "$$root"));
		return toJsonSchema(rest as Rule);
	}
	return objectSchema(p as Record<string, Rule>, p.$$strict);
}
