import { isOptional, paramsSchema, parseShorthand, toJsonSchema } from "../../../../../services/api/openapi/json-schema";
import { withoutNulls } from "../../../../../services/common/schema";
import { pagingParams } from "../../../../../services/common/paging";

describe("toJsonSchema", () => {
	it("turns string rules into lengths, patterns and enums", () => {
		expect(toJsonSchema({ type: "string", min: 1, max: 64, trim: true })).toEqual({ type: "string", minLength: 1, maxLength: 64, "x-trim": true });
		expect(toJsonSchema({ type: "string", length: 3 })).toEqual({ type: "string", minLength: 3, maxLength: 3 });
		expect(toJsonSchema({ type: "string", pattern: /^[A-Z]{3}$/ })).toEqual({ type: "string", pattern: "^[A-Z]{3}$" });
		expect(toJsonSchema({ type: "string", pattern: /^ab$/i })).toEqual({ type: "string", pattern: "^ab$", "x-pattern-flags": "i" });
		expect(toJsonSchema({ type: "string", enum: ["a", "b"] })).toEqual({ type: "string", enum: ["a", "b"] });
		expect(toJsonSchema({ type: "string", empty: false })).toEqual({ type: "string", minLength: 1 });
	});

	it("leaves out a pattern that was lost on its way from another node (a RegExp arrives as {})", () => {
		expect(toJsonSchema(JSON.parse(JSON.stringify({ type: "string", pattern: /^x$/ })) as Record<string, unknown>)).toEqual({ type: "string" });
	});

	it("turns number rules into integers, bounds and converted query values", () => {
		expect(toJsonSchema(pagingParams.page_size)).toEqual({ type: "integer", minimum: 1, maximum: 100, default: 20, "x-convert": true });
		expect(toJsonSchema({ type: "number", positive: true })).toEqual({ type: "number", exclusiveMinimum: 0 });
		expect(toJsonSchema({ type: "number", negative: true, equal: -3 })).toEqual({ type: "number", exclusiveMaximum: 0, const: -3 });
	});

	it("turns formats, enums and constants into their JSON Schema forms", () => {
		expect(toJsonSchema({ type: "email", normalize: true, max: 254 })).toEqual({ type: "string", maxLength: 254, format: "email" });
		expect(toJsonSchema({ type: "url", max: 500 })).toEqual({ type: "string", maxLength: 500, format: "uri" });
		expect(toJsonSchema({ type: "uuid" })).toEqual({ type: "string", format: "uuid" });
		expect(toJsonSchema({ type: "enum", values: ["email", "sms"] })).toEqual({ enum: ["email", "sms"] });
		expect(toJsonSchema({ type: "equal", value: 5 })).toEqual({ const: 5 });
		expect(toJsonSchema({ type: "boolean", convert: true })).toEqual({ type: "boolean", "x-convert": true });
		expect(toJsonSchema({ type: "date" })).toEqual({ type: "string", format: "date-time" });
	});

	it("turns arrays, objects, records and tuples into nested schemas", () => {
		expect(toJsonSchema({ type: "array", items: { type: "string", max: 40 }, max: 20, unique: true })).toEqual({
			type: "array",
			items: { type: "string", maxLength: 40 },
			maxItems: 20,
			uniqueItems: true,
		});
		expect(toJsonSchema({ type: "object", strict: true, props: { a: { type: "number" }, b: { type: "string", optional: true } } })).toEqual({
			type: "object",
			properties: { a: { type: "number" }, b: { type: "string" } },
			required: ["a"],
			additionalProperties: false,
		});
		expect(toJsonSchema({ type: "object", strict: "remove", props: {} })).toEqual({ type: "object", properties: {} });
		expect(toJsonSchema({ type: "record", key: { type: "string", min: 2 }, value: { type: "number", max: 100 } })).toEqual({
			type: "object",
			propertyNames: { type: "string", minLength: 2 },
			additionalProperties: { type: "number", maximum: 100 },
		});
		expect(toJsonSchema({ type: "tuple", items: ["number", "string"] })).toEqual({ type: "array", prefixItems: [{ type: "number" }, { type: "string" }], items: false });
	});

	it("turns a multi-rule into anyOf and nullable into null allowed", () => {
		expect(toJsonSchema([{ type: "string" }, { type: "object" }])).toEqual({ anyOf: [{ type: "string" }, { type: "object" }] });
		expect(toJsonSchema({ type: "multi", rules: ["string", "number"] })).toEqual({ anyOf: [{ type: "string" }, { type: "number" }] });
		expect(toJsonSchema({ type: "string", optional: true, nullable: true })).toEqual({ anyOf: [{ type: "string" }, { type: "null" }] });
	});

	it("reads shorthand rules, $$type objects and leaves unknown or custom rules open", () => {
		expect(parseShorthand("number|integer|min:1|optional")).toEqual({ type: "number", integer: true, min: 1, optional: true });
		expect(toJsonSchema("string[]")).toEqual({ type: "array", items: { type: "string" } });
		expect(toJsonSchema({ $$type: "object|optional", a: "string" })).toEqual({ type: "object", properties: { a: { type: "string" } }, required: ["a"] });
		expect(toJsonSchema({ type: "any" })).toEqual({});
		expect(toJsonSchema({ type: "custom", check: () => true })).toEqual({ "x-validator-type": "custom" });
		expect(toJsonSchema({ type: "string", default: () => "computed" })).toEqual({ type: "string" });
	});

	it("counts a field as optional when it is optional or has a default", () => {
		expect(isOptional({ type: "string", optional: true })).toBe(true);
		expect(isOptional(pagingParams.page)).toBe(true);
		expect(isOptional("string|optional")).toBe(true);
		expect(isOptional({ type: "string" })).toBe(false);
		expect(isOptional([{ type: "string", optional: true }, { type: "number" }])).toBe(false);
	});
});

describe("paramsSchema", () => {
	it("describes an action's params as an object, refusing unknown fields under $$strict", () => {
		expect(paramsSchema({ $$strict: true, name: { type: "string" }, page: pagingParams.page })).toEqual({
			type: "object",
			properties: { name: { type: "string" }, page: { type: "integer", minimum: 1, maximum: 100_000, default: 1, "x-convert": true } },
			required: ["name"],
			additionalProperties: false,
		});
	});

	it("reads a $$root schema (withoutNulls) as the object it wraps", () => {
		const schema = paramsSchema(withoutNulls({ id: { type: "string", min: 1 }, label: { type: "string", optional: true } }));
		expect(schema).toEqual({ type: "object", properties: { id: { type: "string", minLength: 1 }, label: { type: "string" } }, required: ["id"] });
	});

	it("describes an action without params as an object of nothing in particular", () => {
		expect(paramsSchema(undefined)).toEqual({ type: "object" });
		expect(paramsSchema({})).toEqual({ type: "object", properties: {} });
	});
});
