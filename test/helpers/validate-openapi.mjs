// Validates an OpenAPI document (a JSON file, argv[2]) against the official OpenAPI schema of its version with
// @seriousme/openapi-schema-validator, and every Schema Object in it against the JSON Schema 2020-12 meta-schema
// (the OpenAPI schema checks only that a Schema Object is an object). Prints {valid, errors} as JSON; exits 1 when
// it is not valid. A separate process because the validator is an ES module, which Jest's CommonJS runtime cannot load.
import { readFile } from "node:fs/promises";
import process from "node:process";
import { createRequire } from "node:module";
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
const doc = JSON.parse(await readFile(file, "utf8"));
const result = await new Validator().validate(doc);
const errors = result.valid ? [] : [].concat(result.errors);

// The validator's own Ajv (v8), for the 2020-12 dialect.
const require = createRequire(import.meta.resolve("@seriousme/openapi-schema-validator"));
const Ajv2020 = require("ajv/dist/2020").default;
const ajv = new Ajv2020({ strict: false, validateFormats: false });

/** Every Schema Object of the document with where it is: parameters, bodies, responses, components. */
function* schemas(node, path) {
	if (!node || typeof node !== "object") return;
	for (const [key, value] of Object.entries(node)) {
		if (key === "schema" && value && typeof value === "object") yield [`${path}/schema`, value];
		else if (key === "schemas" && path === "#/components") for (const [n, s] of Object.entries(value)) yield [`${path}/schemas/${n}`, s];
		else yield* schemas(value, `${path}/${key}`);
	}
}
let count = 0;
for (const [where, schema] of schemas(doc, "#")) {
	count++;
	if (!ajv.validateSchema(schema)) errors.push({ where, errors: ajv.errors });
}
process.stdout.write(`${JSON.stringify({ valid: errors.length === 0, schemas: count, errors }, null, 2)}\n`);
process.exit(errors.length === 0 ? 0 : 1);
