// ESLint flat config: recommended JavaScript and TypeScript rules over the whole source tree, and the import rules
// of the layout (docs/architecture.md, "Where the code lives"). Each block below gives `no-restricted-imports` the
// complete list for its files (a later block replaces the rule's options of an earlier one, it does not add to them).
import fs from "node:fs";
import path from "node:path";
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Services that have a `services/<name>.service.ts`. */
const SERVICES = fs
	.readdirSync(path.join(import.meta.dirname, "services"))
	.filter(f => f.endsWith(".service.ts"))
	.map(f => f.slice(0, -".service.ts".length));

const rule = (regex, message) => ({ regex, message });
const NO_BOOT = rule("(^|/)config/boot(/|$)", "config/boot is the composition root: nothing imports it but the tests.");
const NO_TEST = rule("(^|/)test/", "production code never imports the tests or their tools.");
// The configuration is parsed once, by the composition root, and passed on (services and mixins read it with
// `configOf(this)`): nothing else reads the environment.
const NO_LOAD_CONFIG = {
	regex: "(^|/)env$",
	importNames: ["loadConfig"],
	message: "only config/boot parses the configuration; a service or mixin reads it with configOf(this), other code is given it.",
};
const restrict = (files, patterns) => ({
	files,
	rules: { "no-restricted-imports": ["error", { patterns: [NO_BOOT, NO_TEST, NO_LOAD_CONFIG, ...patterns] }] },
});

const importRules = [
	// The shared kernel imports nothing of ours.
	restrict(["services/common/**/*.ts"], [rule("^\\.\\./", "services/common imports nothing of ours (only packages and services/common).")]),
	// A service (its .service.ts file and its flat folder) imports services/common, other services' client.ts,
	// mixins and config/env.
	...SERVICES.flatMap(name => [
		restrict(
			[`services/${name}.service.ts`],
			[
				rule(`^\\./(?!common/|${name}/)[^/]+/(?!client$)`, `a service imports another service only through its client.ts (services/<name>/client.ts).`),
				rule("^\\./[^/]+$", "a service never imports another service's file: use its services/<name>/client.ts."),
				rule("^\\.\\./(?!mixins/|config/env$)", "a service imports services/common, other services' client.ts, mixins and config/env only."),
			],
		),
		restrict(
			[`services/${name}/**/*.ts`],
			[
				rule(
					`^\\.\\./(?!\\.\\./|common/|${name}/|${name}\\.service$|[^/]+/client$)`,
					"a service imports another service only through its client.ts (services/<name>/client.ts).",
				),
				rule("^\\.\\./\\.\\./(?!mixins/|config/env$)", "a service imports services/common, other services' client.ts, mixins and config/env only."),
			],
		),
	]),
	// Mixins never import a service's folder (services/common excepted) or a middleware.
	restrict(
		["mixins/**/*.ts"],
		[
			rule("(^|/)services/(?!common/)", "a mixin never imports a service (services/common excepted)."),
			rule("(^|/)config/middlewares(/|$)", "a mixin never imports a middleware."),
		],
	),
	// Middlewares observe through ctx, events and actions, never through a mixin.
	restrict(
		["config/middlewares/**/*.ts"],
		[
			rule("(^|/)mixins(/|$)", "a middleware never imports a mixin: it observes through ctx, events and actions."),
			rule("(^|/)services/(?!common/)", "a middleware imports no service (services/common excepted)."),
		],
	),
	// What can be set (env.ts, the resilience policy) depends on nothing of ours.
	restrict(["config/*.ts"], [rule("^\\.\\./|(^|/)middlewares(/|$)", "config/env.ts and config/resilience.ts import nothing of ours.")]),
	// The browser code (web/) is its own program: it talks to the shop over HTTP only, never by importing its code.
	restrict(["web/**/*.ts", "web/**/*.tsx", "web/**/*.mts"], [rule("(^|/)(services|mixins|config|test)(/|$)", "web/ talks to the shop over HTTP (/api/v1) only; it imports no server code.")]),
	// The broker options (part of the composition root) are built from the configuration they are given.
	{ files: ["moleculer.config.ts"], rules: { "no-restricted-imports": ["error", { patterns: [NO_TEST, NO_LOAD_CONFIG] }] } },
];

// Moleculer's internals (what it neither documents nor declares in its typings, and the registry's own catalogs) are
// touched in one file only, config/middlewares/moleculer-internals.ts, whose test fails when Moleculer changes them;
// everywhere else the code uses Moleculer's public surface (broker methods, the registry's list queries, metric methods).
const INTERNALS = "is a Moleculer internal: use Moleculer's public API, or a helper of config/middlewares/moleculer-internals.ts (the one file that touches Moleculer's internals).";
const internal = (selector, what) => ({ selector, message: `${what} ${INTERNALS}` });
const moleculerInternals = {
	files: ["services/**/*.ts", "mixins/**/*.ts", "config/**/*.ts", "moleculer.config.ts"],
	ignores: ["config/middlewares/moleculer-internals.ts"],
	rules: {
		"no-restricted-syntax": [
			"error",
			internal("MemberExpression[property.name='CircuitBreakerStore'], MemberExpression[property.value='CircuitBreakerStore']", "broker.CircuitBreakerStore"),
			internal("MemberExpression[property.name='registeredHooks'], MemberExpression[property.value='registeredHooks']", "A middleware's registeredHooks"),
			internal("MemberExpression[property.name='removePendingRequestByNodeID']", "The transit's pending requests"),
			internal(
				"MemberExpression[property.name=/^(nodes|services|actions|events)$/]:matches([object.name='registry'], [object.property.name='registry'])",
				"The registry's catalog (registry.nodes, .services, .actions, .events); its list queries (getNodeList, getServiceList, getActionEndpoints) are public and",
			),
			internal("MemberExpression[property.name=/^_(?!id$)/]", "An underscore-prefixed member"),
			internal(
				"TSAsExpression:matches([expression.name=/^(broker|registry)$/], [expression.property.name=/^(broker|registry|metrics|transit)$/])",
				"Casting the broker, its registry, metrics or transit to reach a member Moleculer does not declare",
			),
			internal("TSAsExpression[expression.callee.property.name='getMetric']", "Casting a metric to change how it works"),
		],
	},
};

export default tseslint.config(
	{ ignores: ["dist/", "node_modules/", "coverage/", "data/"] },
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		languageOptions: { ecmaVersion: 2023, sourceType: "module" },
		rules: {
			"@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
			"@typescript-eslint/no-explicit-any": "error",
		},
	},
	...importRules,
	moleculerInternals,
	{
		files: ["**/*.js", "**/*.cjs"],
		languageOptions: { globals: { module: "writable", require: "readonly", process: "readonly", __dirname: "readonly" } },
		rules: { "@typescript-eslint/no-require-imports": "off" },
	},
);
