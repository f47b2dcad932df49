// Builds dist/ once per Jest run: tests that start ShopFlow in child processes run the compiled code. The production
// code (tsconfig.build.json) and the tools (tsconfig.tools.json, into dist/test/tools/) are built apart, and the
// browser pages (web/, into dist/web) that the gateway serves and the browser tests open.
import { execFileSync } from "node:child_process";
import path from "node:path";

export default function globalSetup(): void {
	const root = path.resolve(__dirname, "..", "..");
	for (const project of ["tsconfig.build.json", "tsconfig.tools.json"]) {
		execFileSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", project], { cwd: root, stdio: "inherit" });
	}
	// NODE_ENV=test (Jest's) would make Vite keep Preact's development branches: the tests open the bundle users get.
	execFileSync(process.execPath, [path.join(root, "node_modules", "vite", "bin", "vite.js"), "build", "web", "--logLevel", "warn"], {
		cwd: root,
		stdio: "inherit",
		env: { ...process.env, NODE_ENV: "production" },
	});
}
