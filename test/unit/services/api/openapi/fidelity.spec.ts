/**
 * The converter tells the truth about the validator: for the shop's own params schemas, every value generated as
 * valid from the JSON Schema passes fastest-validator (as Moleculer runs it), and every value generated as invalid
 * fails it.
 */
import fc from "fast-check";
import Validator from "fastest-validator";
import { paramsSchema } from "../../../../../services/api/openapi/json-schema";
import { invalidObjectArb, validArb } from "../../../../helpers/schema-arbitrary";
import { addressParams, addressUpdateParams, profileParams } from "../../../../../services/users/params";
import { createParams as productCreate, listParams as productList, updateParams as productUpdate } from "../../../../../services/products/params";
import { createParams as orderCreate, listParams as orderList } from "../../../../../services/orders/params";
import { itemsParam } from "../../../../../services/inventory/params";
import { withoutNulls } from "../../../../../services/common/schema";

const SCHEMAS: Record<string, unknown> = {
	"users.addAddress": withoutNulls(addressParams),
	"users.updateAddress": addressUpdateParams,
	"users.updateProfile": profileParams,
	"products.create": productCreate,
	"products.update": productUpdate,
	"products.list": productList,
	"orders.create": orderCreate,
	"orders.list": orderList,
	"inventory.reserve": { items: itemsParam },
	strict: { $$strict: true, name: { type: "string", min: 2, max: 5, trim: true }, flag: { type: "boolean", optional: true }, n: { type: "number", integer: true, positive: true } },
};

/** A deep copy of plain objects and arrays that keeps functions and RegExps (fastest-validator changes what it compiles). */
function copy<T>(value: T): T {
	if (Array.isArray(value)) return value.map(copy) as T;
	if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)])) as T;
	return value;
}

describe("the JSON Schema of a params schema", () => {
	// Moleculer's own options (new-style custom checks, as withoutNulls writes them).
	const validator = new Validator({ useNewCustomCheckerFunction: true });

	it.each(Object.keys(SCHEMAS))("accepts what %s accepts and refuses what it refuses", name => {
		const check = validator.compile(copy(SCHEMAS[name]) as Record<string, unknown>);
		const schema = paramsSchema(SCHEMAS[name]);
		const known = { strings: [] };
		fc.assert(
			fc.property(validArb(schema, known), value => {
				const result = check(structuredClone(value));
				if (result !== true) throw new Error(`refused ${JSON.stringify(value)}: ${JSON.stringify(result)}`);
			}),
			{ numRuns: 60 },
		);
		const invalid = invalidObjectArb(schema, known);
		if (!invalid) throw new Error("no invalid value can be made");
		fc.assert(
			fc.property(invalid, value => {
				if (check(structuredClone(value)) === true) throw new Error(`accepted ${JSON.stringify(value)}`);
			}),
			{ numRuns: 60 },
		);
	});
});
