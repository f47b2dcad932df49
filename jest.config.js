/** Jest: TypeScript through ts-jest (transpile only; `tsc --noEmit` type-checks), real broker, NATS and Redis. */
module.exports = {
	testEnvironment: "node",
	roots: ["<rootDir>/test"],
	testMatch: ["**/*.spec.ts"],
	transform: {
		"^.+\\.ts$": ["ts-jest", { diagnostics: false }],
	},
	setupFiles: ["<rootDir>/test/helpers/env.ts"],
	globalSetup: "<rootDir>/test/helpers/global-setup.ts",
	testTimeout: 30000,
	maxWorkers: 2,
	verbose: false,
};
