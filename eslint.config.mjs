// ESLint flat config: recommended JavaScript and TypeScript rules over the whole source tree.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
	{
		files: ["**/*.js", "**/*.cjs"],
		languageOptions: { globals: { module: "writable", require: "readonly", process: "readonly", __dirname: "readonly" } },
		rules: { "@typescript-eslint/no-require-imports": "off" },
	},
);
